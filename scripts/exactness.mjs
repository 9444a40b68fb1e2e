// Fast vs full gradients on every still and every frame of the sample drive (run after `npm run build`):
//   node scripts/exactness.mjs [out.json]
// Prints one line per frame and a summary; writes all rows and the summary to out.json when given.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sweepExactness } from '../dist/bench/exactness.js';
import { sampleClipsDir } from '../dist/clips.js';

const dir = sampleClipsDir();
// SKIP_STILLS=1 SKIP_FRAMES=n resume a sweep.
const { summary, rows } = await sweepExactness({
  stills: process.env.SKIP_STILLS ? [] : [1, 2, 3, 4, 5, 6].map((i) => join(dir, `test${i}.jpg`)),
  skipFrames: Number(process.env.SKIP_FRAMES ?? 0),
  clip: join(dir, 'test_video.mp4'),
  // Grad-CAM++ and XPolyCAM need the gradient map itself: they run the same backward pass on both sides.
  methods: (process.env.METHODS ?? 'xgradcam,gradcam').split(','),
  log: (l) => console.log(l),
});
console.log(JSON.stringify(summary, null, 2));
if (process.argv[2]) await writeFile(process.argv[2], JSON.stringify({ summary, rows }, null, 1));
