// Render (blend view, boxes, legend: the bench's settings) side by side: the previous libvips renderer
// (test/render-reference.ts) and today's renderFrame, on real explained frames of the sample drive, plus the
// pixel difference between them. Run: npx tsx scripts/bench-render.ts [repeats=15] [frames=4]
import { join } from 'node:path';
import { Engine } from '../src/engine.js';
import { openDecoder } from '../src/video/decode.js';
import { sampleClipsDir } from '../src/clips.js';
import { renderFrame } from '../src/render/overlay.js';
import type { ExplainedFrame, RenderOptions } from '../src/types.js';
import { renderBlendReference } from '../test/render-reference.js';

const RENDER: RenderOptions = { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true };
const repeats = Number(process.argv[2] ?? 15);
const nFrames = Number(process.argv[3] ?? 4);

const engine = await Engine.create({ batching: 'batched' });
await engine.warmUp();
const explained: ExplainedFrame[] = [];
const d = await openDecoder(join(sampleClipsDir(), 'test_video.mp4'));
let i = 0;
for await (const f of d) {
  if (i++ % 10 !== 0) continue;
  explained.push(await engine.explain({ ...f, rgb: Buffer.from(f.rgb) }));
  if (explained.length >= nFrames) break;
}
await d.close();
engine.dispose();

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const old: number[] = [];
const now: number[] = [];
for (const ex of explained) {
  await renderBlendReference(ex, RENDER);
  await renderFrame(ex, RENDER);
}
// Interleaved, so load changes on this shared machine hit both sides alike.
for (let r = 0; r < repeats; r++) {
  for (const ex of explained) {
    let t = performance.now();
    await renderBlendReference(ex, RENDER);
    old.push(performance.now() - t);
    t = performance.now();
    await renderFrame(ex, RENDER);
    now.push(performance.now() - t);
  }
}
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
const o = median(old);
const n = median(now);
console.log(`render 1280x720 per frame, median of ${old.length}: previous ${o.toFixed(1)} ms, now ${n.toFixed(1)} ms (${(o / n).toFixed(2)}x)`);
