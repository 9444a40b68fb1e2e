// The frame engine on the real dashcam stills: cars are found and the XGrad-CAM car map sits on them.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import type { CamMethodName, ExplainedFrame } from '../src/types.js';
import { STILLS, stillFrame } from './helpers/frames.js';

let engine: Engine;
beforeAll(async () => {
  // Batched explicitly: the comparison with sequential passes below needs both modes (WASM's default is sequential).
  engine = await Engine.create({ backend: 'wasm', batching: 'batched' });
});
afterAll(() => engine?.dispose());

async function carScores(method: CamMethodName) {
  const rows: { still: string; hit: boolean; lift: number }[] = [];
  for (const still of STILLS) {
    const r = await engine.explain(await stillFrame(still), { method });
    const car = r.record.saliency.find((s) => s.label === 'car');
    if (car) rows.push({ still, hit: car.pointingHit, lift: car.energyInBoxes / car.areaInBoxes });
  }
  const lifts = rows.map((r) => r.lift).sort((a, b) => a - b);
  const median = lifts[Math.floor(lifts.length / 2)]!;
  const hits = rows.filter((r) => r.hit).length;
  console.log(`${method}: car map peak in a car box on ${hits}/${rows.length} stills, median lift ${median.toFixed(2)} (${lifts.map((l) => l.toFixed(1)).join(', ')})`);
  return { rows, hits, median };
}

describe('CenterNet + CAMs on the Udacity stills', () => {
  it('detects cars with boxes inside the image on most stills', async () => {
    let withCars = 0;
    for (const still of STILLS) {
      const r = await engine.explain(await stillFrame(still), {});
      const cars = r.detections.filter((d) => d.label === 'car');
      if (cars.length) withCars++;
      for (const d of r.detections) {
        expect(d.box[0]).toBeGreaterThanOrEqual(0);
        expect(d.box[2]).toBeLessThanOrEqual(r.record.width);
        expect(d.box[2]).toBeGreaterThan(d.box[0]);
        expect(d.score).toBeGreaterThanOrEqual(0.3);
      }
      // one map per detected class, each covering the frame at the layer's resolution
      expect(r.maps.map((m) => m.label).sort()).toEqual([...new Set(r.detections.map((d) => d.label))].sort());
    }
    expect(withCars).toBeGreaterThanOrEqual(5);
  });

  it('XGrad-CAM car map: peak inside a car box on ≥5 stills, median lift ≥ 2.5 (aim > 4)', async () => {
    const { hits, median } = await carScores('xgradcam');
    expect(hits).toBeGreaterThanOrEqual(5);
    expect(median).toBeGreaterThanOrEqual(2.5);
  });

  it('XPolyCAM car map (multi-layer, one backward pass) localises as well', async () => {
    const { hits, median } = await carScores('xpolycam');
    expect(hits).toBeGreaterThanOrEqual(5);
    expect(median).toBeGreaterThanOrEqual(2.5);
  });

  it('per-detection maps: one per box, each scored against its own box', async () => {
    const r = await engine.explain(await stillFrame('test1.jpg'), { perDetection: true });
    expect(r.maps.length).toBe(r.detections.length);
    r.maps.forEach((m, i) => expect(m.detectionIndex).toBe(i));
    expect(r.record.saliency.every((s) => s.detectionIndex !== undefined)).toBe(true);
  });

  it('batched multi-label maps equal K sequential passes (relative difference < 1e-4)', async () => {
    // Both on the backward pass: the default fast gradient sums (model/centernet-adjoint.ts) do not batch at all.
    const batched = await Engine.create({ backend: 'wasm', batching: 'batched', gradients: 'full' });
    const seq = await Engine.create({ backend: 'wasm', batching: 'sequential', gradients: 'full' });
    try {
      const frame = await stillFrame('test5.jpg');
      const a: ExplainedFrame = await batched.explain(frame, { perDetection: true });
      const b: ExplainedFrame = await seq.explain(frame, { perDetection: true });
      expect(a.maps.length).toBeGreaterThanOrEqual(2);
      a.maps.forEach((m, i) => {
        const n = b.maps[i]!.data;
        let diff = 0;
        let norm = 0;
        m.data.forEach((v, j) => {
          diff = Math.max(diff, Math.abs(v - n[j]!));
          norm = Math.max(norm, Math.abs(n[j]!));
        });
        expect(diff / norm).toBeLessThan(1e-4);
      });
    } finally {
      batched.dispose();
      seq.dispose();
    }
  });

  it('every method yields one normalised map per class', async () => {
    const frame = await stillFrame('test4.jpg');
    for (const method of ['gradcam', 'gradcam++', 'eigencam'] as const) {
      const r = await engine.explain(frame, { method });
      expect(r.maps.length).toBeGreaterThan(0);
      for (const m of r.maps) {
        expect(Math.max(...m.data)).toBeCloseTo(1, 5);
        expect(Math.min(...m.data)).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

describe('resource release', () => {
  it('200 explains leave tf.memory().numTensors where it started', async () => {
    const frame = await stillFrame('test6.jpg');
    await engine.explain(frame); // first call may create lazily cached tensors
    const start = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) {
      const r = await engine.explain(frame);
      expect(r.maps.length).toBeGreaterThan(0);
      if (i % 50 === 49) expect(tf.memory().numTensors).toBe(start);
    }
    expect(tf.memory().numTensors).toBe(start);
  }, 600_000);
});
