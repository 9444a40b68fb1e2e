// The audit's perturbed copies scored, and max-sensitivity's noisy copies explained, on the worker pool
// (`--workers`) give the numbers of the in-process audit: the perturbed copies travel through the workers'
// shared slots, several batches in flight at once, and the results are put back in order. Tiny: one still, one
// method, 4 steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuditRun, runAudit } from '../src/audit/run.js';
import type { DetectionAudit, MetricValues } from '../src/audit/types.js';
import { Engine } from '../src/engine.js';
import { createInputPool } from '../src/explain/create.js';
import type { WorkerPoolExplainer } from '../src/explain/worker-pool.js';
import { METHODS_AUDITED_BY_DEFAULT } from '../src/saliency/methods/index.js';
import { clipPath } from './helpers/clips.js';
import { stillFrame } from './helpers/frames.js';

let engine: Engine;
let pool: WorkerPoolExplainer;
beforeAll(async () => {
  engine = await Engine.create({ backend: 'wasm' });
  pool = (await createInputPool({ backend: 'wasm', workers: 1 }))!;
}, 300_000);
afterAll(() => {
  engine?.dispose();
  pool?.dispose();
});

// Timing is the only field that may differ.
const numbers = (d: DetectionAudit) => {
  const strip = ({ msPerMap: _ms, ...v }: MetricValues) => v;
  return { ...d, methods: Object.fromEntries(Object.entries(d.methods).map(([m, v]) => [m, strip(v)])), random: strip(d.random) };
};

describe('audit with the perturbed copies on the worker pool', () => {
  it('gives the in-process numbers', async () => {
    expect(pool).toBeDefined();
    // 14 perturbed copies in batches of 8, 2 in flight on one worker: the second queues in the pool, the slot is
    // reused, the last batch is partial; 3 noisy copies, 2 at once.
    // Two methods: each noisy copy is explained once for both (explainMethods), on the pool or in-process.
    const options = parseAuditRun({ methods: ['eigencam', 'xgradcam'], classes: ['car'], steps: 4, randomMaps: 1, samples: 3 });
    const still = clipPath('test1.jpg');
    const local = await runAudit(still, options, engine);
    const stats = { runs: 0, detectMs: 0 };
    const pooled = await runAudit(still, options, engine, undefined, { perturbed: { detectInputs: pool.detectInputs.bind(pool), explain: pool.explain.bind(pool), explainMethods: pool.explainMethods.bind(pool), concurrency: 2 }, stats });
    expect(local.data.detections.length).toBeGreaterThan(1);
    expect(stats.runs).toBeGreaterThan(6);
    expect(local.data.detections[0]!.methods.eigencam!.maxSensitivity).toBeGreaterThan(0);
    expect(local.data.detections[0]!.methods.xgradcam!.maxSensitivity).toBeGreaterThan(0);
    const a = local.data.detections.map(numbers);
    const b = pooled.data.detections.map(numbers);
    expect(b.length).toBe(a.length);
    // Same engine code on the same backend: equal up to float rounding (in practice bit for bit).
    const flat = (x: unknown): number[] => (typeof x === 'number' ? [x] : Array.isArray(x) ? x.flatMap(flat) : x && typeof x === 'object' ? Object.values(x).flatMap(flat) : []);
    expect(JSON.stringify(b, (_k, v: unknown) => (typeof v === 'number' ? 0 : v))).toBe(JSON.stringify(a, (_k, v: unknown) => (typeof v === 'number' ? 0 : v)));
    const fa = flat(a);
    const fb = flat(b);
    expect(fb.length).toBe(fa.length);
    fa.forEach((x, i) => (Number.isNaN(x) ? expect(fb[i]).toBeNaN() : expect(fb[i]).toBeCloseTo(x, 6)));
  }, 600_000);

  it('explains a frame with several methods at once as the engine in this thread does', async () => {
    const frame = await stillFrame('test1.jpg');
    const methods = METHODS_AUDITED_BY_DEFAULT;
    const options = { classes: ['car'], perDetection: true };
    const local = await engine.explainMethods(frame, methods, options);
    const pooled = await pool.explainMethods(frame, methods, options);
    expect(pooled.detections).toEqual(local.detections);
    expect(Object.keys(pooled.mapsByMethod)).toEqual([...methods]);
    for (const m of methods) {
      const a = local.mapsByMethod[m]!;
      expect(a.length).toBeGreaterThan(1);
      // Maps come back as transferred Float32Arrays; equal up to float rounding (in practice bit for bit).
      expect(pooled.mapsByMethod[m]!.map((x) => x.data.length)).toEqual(a.map((x) => x.data.length));
      pooled.mapsByMethod[m]!.forEach((x, i) => x.data.forEach((v, j) => expect(Math.abs(v - a[i]!.data[j]!)).toBeLessThanOrEqual(1e-6)));
    }
  }, 300_000);
});
