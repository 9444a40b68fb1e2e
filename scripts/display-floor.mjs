// How a display floor trades the objects' own heat against tint elsewhere (run after `npm run build`):
//   node scripts/display-floor.mjs
// On the six stills and every 4th frame of the sample drive, XGrad-CAM class maps combined as the overlay draws
// them: per floor, the share of the map mass inside the detection boxes it hides, and the share of the frame
// outside every box still tinted (medians over frames). The README's floor (src/render/colormap.ts) comes from it.
import { join } from 'node:path';
import sharp from 'sharp';
import { sampleClipsDir } from '../dist/clips.js';
import { Engine } from '../dist/engine.js';
import { combineMax } from '../dist/render/combine.js';
import { boxCoverage } from '../dist/saliency/stats.js';
import { openDecoder } from '../dist/video/index.js';

const dir = sampleClipsDir();
const engine = await Engine.create({ backend: 'wasm' });
const frames = [];
for (let i = 1; i <= 6; i++) {
  const { data, info } = await sharp(join(dir, `test${i}.jpg`)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  frames.push({ index: 0, time: 0, width: info.width, height: info.height, rgb: new Uint8Array(data) });
}
const d = await openDecoder(join(dir, 'test_video.mp4'));
let n = 0;
for await (const f of d) if (n++ % 4 === 0) frames.push(f);
await d.close();

const floors = [0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4];
const hidden = floors.map(() => []);
const tinted = floors.map(() => []);
for (const f of frames) {
  const ex = await engine.explain(f);
  const c = combineMax(ex.maps);
  if (!c) continue;
  const sx = c.width / f.width;
  const sy = c.height / f.height;
  const cov = boxCoverage(ex.detections.map((x) => [x.box[0] * sx, x.box[1] * sy, x.box[2] * sx, x.box[3] * sy]), c.width, c.height);
  let inside = 0;
  let outside = 0;
  c.data.forEach((v, i) => {
    inside += v * cov[i];
    outside += 1 - cov[i];
  });
  floors.forEach((t, k) => {
    let h = 0;
    let shown = 0;
    c.data.forEach((v, i) => {
      if (v < t) h += v * cov[i];
      else shown += 1 - cov[i];
    });
    hidden[k].push(h / inside);
    tinted[k].push(shown / outside);
  });
}
engine.dispose();
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const pct = (v) => `${(v * 100).toFixed(1)} %`;
console.log(`${frames.length} frames`);
floors.forEach((t, k) => console.log(`floor ${t}: hides ${pct(median(hidden[k]))} of the in-box mass (max ${pct(Math.max(...hidden[k]))}); ${pct(median(tinted[k]))} of the frame outside the boxes stays tinted (max ${pct(Math.max(...tinted[k]))})`));
