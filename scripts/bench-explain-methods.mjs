// node scripts/bench-explain-methods.mjs [still] — the audit's default CAM methods on one still (clips/test1.jpg,
// WASM, in this thread): each method in its own `explain` call against all of them in one `explainMethods` call
// (one forward pass, shared backward passes). Median of 3 after a warm-up; forward and backward passes counted.
// Needs `npm run build` first (it imports dist/).
import { resolve } from 'node:path';
import sharp from 'sharp';

const { Engine } = await import(resolve('dist/engine.js'));
const { METHODS_AUDITED_BY_DEFAULT: methods } = await import(resolve('dist/saliency/methods/index.js'));
const still = resolve('clips', process.argv[2] ?? 'test1.jpg');
const { data, info } = await sharp(still).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const frame = { index: 0, time: 0, width: info.width, height: info.height, rgb: new Uint8Array(data) };
const engine = await Engine.create({ backend: 'wasm' });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = async (f) => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};
const passes = async (f) => {
  const f0 = engine.explainForwards;
  const b0 = engine.gradientCounts.backward;
  await f();
  return { forwards: engine.explainForwards - f0, backward: engine.gradientCounts.backward - b0 };
};
const separately = async () => {
  for (const method of methods) await engine.explain(frame, { method });
};
const together = () => engine.explainMethods(frame, methods);

await separately(); // warm-up: kernels compiled, the probed twin loaded
await together();
const rows = {};
for (const method of methods) {
  const ts = [];
  for (let i = 0; i < 3; i++) ts.push(await timed(() => engine.explain(frame, { method })));
  rows[method] = +median(ts).toFixed(0);
}
const detect = [];
for (let i = 0; i < 3; i++) detect.push(await timed(() => engine.explain(frame, { maxTargets: 0 })));
const sep = [];
const tog = [];
for (let i = 0; i < 3; i++) {
  sep.push(await timed(separately));
  tog.push(await timed(together));
}
const out = {
  machine: 'shared 2-core VM (other jobs running)',
  still: info.width + 'x' + info.height,
  maps: (await together()).mapsByMethod[methods[0]].length,
  detectOnlyMs: +median(detect).toFixed(0),
  perMethodMs: rows,
  separateMs: +median(sep).toFixed(0),
  togetherMs: +median(tog).toFixed(0),
  separatePasses: await passes(separately),
  togetherPasses: await passes(together),
};
console.log(JSON.stringify(out));
engine.dispose();
