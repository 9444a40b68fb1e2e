import { Engine } from '/work/wt/fastcam/src/engine.js';
import { compareFrame, summarise } from '/work/wt/fastcam/src/bench/exactness.js';
import sharp from 'sharp';
const fast = await Engine.create({ backend: 'wasm', gradients: 'fast', batching: 'sequential' });
const full = await Engine.create({ backend: 'wasm', gradients: 'full', batching: 'sequential' });
const layer = process.argv[2];
const fastL = layer ? await Engine.create({ backend: 'wasm', gradients: 'fast', layer }) : fast;
const fullL = layer ? await Engine.create({ backend: 'wasm', gradients: 'full', layer }) : full;
for (const still of ['test1.jpg','test4.jpg','test6.jpg']) {
  const { data, info } = await sharp('/work/wt/fastcam/clips/' + still).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame = { index: 0, time: 0, width: info.width, height: info.height, rgb: new Uint8Array(data) };
  const rows = await compareFrame(fastL, fullL, frame, still, ['xgradcam', 'gradcam']);
  console.log(still, summarise(rows), rows.slice(0,3));
  for (const [e, n] of [[fastL,'fast'],[fullL,'full']] as const) {
    const t: number[] = [];
    for (let i = 0; i < 4; i++) { const t0 = performance.now(); await e.explain(frame, { minScore: 0, perDetection: true, maxTargets: 8 }); t.push(performance.now() - t0); }
    const d: number[] = [];
    for (let i = 0; i < 4; i++) { const t0 = performance.now(); await e.explain(frame, { maxTargets: 0 }); d.push(performance.now() - t0); }
    console.log(n, 'K8', t.map(Math.round), 'det', d.map(Math.round));
  }
}
