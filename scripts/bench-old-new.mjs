// The engine of this checkout against another build of saliencam, interleaved in one process (same load, same
// frame): detector alone and forward + XGrad-CAM for K = 1, 4, 8 detections and for every class. Run after
// `npm run build`, with the other revision built beside it (sharing this checkout's node_modules, so that both
// engines run on one TF.js instance):
//   git archive <rev> | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/ && (cd /tmp/old && npx tsc -p tsconfig.json)
//   node scripts/bench-old-new.mjs /tmp/old [rounds]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Engine as NewEngine } from '../dist/engine.js';
import { openDecoder } from '../dist/video/decode.js';
import { sampleClipsDir } from '../dist/clips.js';
import { timeInterleaved, median } from '../dist/bench/stats.js';

const oldRoot = process.argv[2];
if (!oldRoot) {
  console.error('usage: node scripts/bench-old-new.mjs <other build root> [rounds]');
  process.exit(2);
}
const { Engine: OldEngine } = await import(pathToFileURL(join(oldRoot, 'dist/engine.js')).href);
const neu = await NewEngine.create({ backend: 'wasm' });
await neu.warmUp();
const old = await OldEngine.create({ backend: 'wasm' });
await old.warmUp();
const d = await openDecoder(join(sampleClipsDir(), 'test_video.mp4'));
let frame;
for await (const f of d) {
  frame = f;
  break;
}
await d.close();
const k = (n) => ({ minScore: 0, perDetection: true, maxTargets: n });
const variants = {};
for (const [name, e] of [['old', old], ['new', neu]]) {
  variants[`${name} detector alone`] = () => e.explain(frame, { maxTargets: 0 });
  for (const n of [1, 4, 8]) variants[`${name} K=${n}`] = () => e.explain(frame, k(n));
  variants[`${name} every class`] = () => e.explain(frame);
}
const before = tf.memory().numTensors;
const runs = await timeInterleaved(variants, Number(process.argv[3] ?? 11));
const base = median(runs['new detector alone']);
console.log(`median of ${runs['new K=1'].length} interleaved rounds; + is over the new detector alone (${base.toFixed(1)} ms)`);
for (const [n, r] of Object.entries(runs)) console.log(`${n.padEnd(20)} ${median(r).toFixed(1).padStart(7)} ms  +${(median(r) - base).toFixed(1)}`);
console.log(`tensors before/after: ${before} / ${tf.memory().numTensors}`);
neu.dispose();
old.dispose();
