// Render + encode side by side in one run, on real explained frames of the sample drive, with the bench's
// render settings (blend view, boxes, legend):
//   render: the previous libvips renderer (test/helpers/render-reference.ts) vs today's renderFrame, interleaved;
//           once repeating one frame (as `npm run bench` times it: label plates cached) and once over
//           consecutive frames starting from an empty cache (plates with new scores rendered on the way);
//           plus the pixel difference between the two;
//   encode: the rendered frames through the encoder at x264 'veryfast' (previous default) vs 'superfast'.
// Run: npx tsx scripts/bench-render.ts [repeats=15] [frames=12]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine.js';
import { openDecoder } from '../src/video/decode.js';
import { openEncoder } from '../src/video/encode.js';
import { sampleClipsDir } from '../src/clips.js';
import { renderFrame } from '../src/render/overlay.js';
import { clearSvgCache } from '../src/render/svg-cache.js';
import type { ExplainedFrame, RenderOptions } from '../src/types.js';
import { renderBlendReference } from '../test/helpers/render-reference.js';

const RENDER: RenderOptions = { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true };
const repeats = Number(process.argv[2] ?? 15);
const nFrames = Number(process.argv[3] ?? 12);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const ms = (v: number) => `${v.toFixed(1)} ms`;

const engine = await Engine.create({ batching: 'batched' });
await engine.warmUp();
const explained: ExplainedFrame[] = [];
const d = await openDecoder(join(sampleClipsDir(), 'test_video.mp4'));
let i = 0;
for await (const f of d) {
  if (i++ % 3 !== 0) continue;
  explained.push(await engine.explain({ ...f, rgb: Buffer.from(f.rgb) }));
  if (explained.length >= nFrames) break;
}
await d.close();
engine.dispose();

const timed = async (fn: () => Promise<unknown>, into: number[]) => {
  const t = performance.now();
  await fn();
  into.push(performance.now() - t);
};

// Warm-up, then the pixel comparison.
for (const ex of explained) {
  const a = await renderBlendReference(ex, RENDER);
  const b = (await renderFrame(ex, RENDER)).rgb;
  let sum = 0;
  let max = 0;
  for (let k = 0; k < a.length; k++) {
    const diff = Math.abs(a[k]! - b[k]!);
    sum += diff;
    if (diff > max) max = diff;
  }
  const maps = ex.maps.map((m) => `${m.label} ${m.width}x${m.height}`).join(', ');
  console.log(`frame ${ex.frame.index}: ${ex.detections.length} boxes, maps ${maps}; mean |diff| ${(sum / a.length).toFixed(4)}, max ${max}`);
}

const first = explained[0]!;
const oneOld: number[] = [];
const oneNew: number[] = [];
for (let r = 0; r < repeats; r++) {
  await timed(() => renderBlendReference(first, RENDER), oneOld);
  await timed(() => renderFrame(first, RENDER), oneNew);
}
console.log(`render, one frame repeated (median of ${repeats}): previous ${ms(median(oneOld))}, now ${ms(median(oneNew))} (${(median(oneOld) / median(oneNew)).toFixed(2)}x)`);

const seqOld: number[] = [];
const seqNew: number[] = [];
const rendered: Uint8Array[] = [];
for (let r = 0; r < Math.max(1, Math.ceil(repeats / explained.length)); r++) {
  clearSvgCache();
  for (const ex of explained) {
    await timed(() => renderBlendReference(ex, RENDER), seqOld);
    await timed(async () => rendered.push((await renderFrame(ex, RENDER)).rgb), seqNew);
  }
}
console.log(`render, consecutive frames from an empty cache (median of ${seqOld.length}): previous ${ms(median(seqOld))}, now ${ms(median(seqNew))} (${(median(seqOld) / median(seqNew)).toFixed(2)}x)`);

// As src/bench/run.ts's encode figure: 32 frames written, then finish, per frame.
const dir = await mkdtemp(join(tmpdir(), 'saliencam-bench-render-'));
try {
  const enc: Record<string, number[]> = { veryfast: [], superfast: [] };
  const size: Record<string, number> = {};
  for (let r = 0; r < 3; r++) {
    for (const preset of Object.keys(enc)) {
      const out = join(dir, `${preset}.mp4`);
      const e = await openEncoder(out, { width: first.frame.width, height: first.frame.height, fps: 25, preset });
      const t0 = performance.now();
      for (let k = 0; k < 32; k++) await e.write(rendered[k % rendered.length]!);
      await e.finish();
      enc[preset]!.push((performance.now() - t0) / 32);
      size[preset] = (await stat(out)).size;
    }
  }
  for (const [preset, t] of Object.entries(enc)) {
    console.log(`encode ${preset} (median of 3 x 32 frames): ${ms(median(t))} per frame, ${(size[preset]! / 1024).toFixed(0)} KiB`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
