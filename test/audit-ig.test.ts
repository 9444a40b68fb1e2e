import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { attributionToMap } from '../src/audit/attribution-map.js';
import { gaussianBlur, integratedGradients, type BatchScore } from '../src/audit/ig.js';
import { mulberry32 } from '../src/audit/rng.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const H = 8;
const W = 8;
function seeded(seed: number, n: number, scale = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => next() * scale);
}

describe('integratedGradients', () => {
  const weights = tf.tensor4d(seeded(1, H * W * 3, 2), [1, H, W, 3]);
  // Smooth and clearly non-linear in x: a squashed linear score plus a quadratic term.
  const f: BatchScore = (x) =>
    tf.tidy(() => tf.add(tf.sigmoid(tf.sub(tf.mul(tf.sum(tf.mul(x, weights), [1, 2, 3]), 0.05), 2)), tf.mean(tf.square(x), [1, 2, 3])) as tf.Tensor1D);

  it('attributions sum to F(x) - F(baseline) within 1% (black baseline)', async () => {
    const x = tf.tensor4d(seeded(2, H * W * 3), [1, H, W, 3]);
    const before = tf.memory().numTensors;
    const r = await integratedGradients(f, x, 'black', { steps: 50, batchSize: 16 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.attribution).toHaveLength(H * W);
    expect(Math.abs(r.fInput - r.fBaseline)).toBeGreaterThan(0.1);
    expect(Math.abs(r.total - (r.fInput - r.fBaseline)) / Math.abs(r.fInput - r.fBaseline)).toBeLessThan(0.01);
    expect(r.completenessError).toBeLessThan(0.01);
    x.dispose();
  });

  it('holds with a tensor baseline, the trapezoid rule and the blur baseline', async () => {
    const x = tf.tensor4d(seeded(3, H * W * 3), [1, H, W, 3]);
    const base = tf.tensor4d(seeded(4, H * W * 3, 0.2), [1, H, W, 3]);
    const a = await integratedGradients(f, x, base, { steps: 40, batchSize: 7, rule: 'trapezoid' });
    expect(a.completenessError).toBeLessThan(0.01);
    expect(base.isDisposed).toBe(false); // the caller's baseline is left alone
    const b = await integratedGradients(f, x, 'blur', { steps: 50, blurSigma: 1.5 });
    expect(b.completenessError).toBeLessThan(0.01);
    tf.dispose([x, base]);
  });

  it('is exact for a linear model: attribution = w * (x - baseline), summed over channels', async () => {
    const lin: BatchScore = (x) => tf.tidy(() => tf.sum(tf.mul(x, weights), [1, 2, 3]) as tf.Tensor1D);
    const x = tf.tensor4d(seeded(5, H * W * 3), [1, H, W, 3]);
    const r = await integratedGradients(lin, x, 'black', { steps: 3 });
    const expected = tf.tidy(() => tf.sum(tf.mul(x, weights), 3).dataSync());
    for (let i = 0; i < H * W; i++) expect(r.attribution[i]).toBeCloseTo(expected[i]!, 4);
    x.dispose();
  });

  it('gaussianBlur keeps a constant image constant (mirrored edges) and smooths an impulse', () => {
    tf.tidy(() => {
      const flat = gaussianBlur(tf.fill([1, 6, 6, 3], 0.5) as tf.Tensor4D, 1.5);
      expect(Math.max(...Array.from(flat.dataSync(), (v) => Math.abs(v - 0.5)))).toBeLessThan(1e-6);
      const imp = tf.buffer([1, 7, 7, 1]);
      imp.set(1, 0, 3, 3, 0);
      const out = gaussianBlur(imp.toTensor() as tf.Tensor4D, 1).dataSync();
      expect(out[3 * 7 + 3]).toBeLessThan(1);
      expect(out[3 * 7 + 4]).toBeGreaterThan(0);
    });
  });
});

describe('attributionToMap', () => {
  it('pools |attribution| to map cells, normalised to [0, 1], peaking where the attribution is', () => {
    const w = 64;
    const h = 32;
    const attr = new Float32Array(w * h);
    // Strong signed speckle in a patch at x 40..48, y 8..16 (cells 5, 1 of an 8x4 map).
    for (let y = 8; y < 16; y++) for (let x = 40; x < 48; x++) attr[y * w + x] = (x + y) % 2 ? 3 : -3;
    const m = attributionToMap(attr, w, h, { width: 8, height: 4, smooth: 0.5, label: 'car', classId: 2 });
    expect(m.width).toBe(8);
    expect(m.height).toBe(4);
    expect(m.label).toBe('car');
    const max = Math.max(...m.data);
    expect(max).toBe(1);
    expect(m.data.indexOf(max)).toBe(1 * 8 + 5);
    expect(Math.min(...m.data)).toBeGreaterThanOrEqual(0);
    expect(m.data[0]).toBe(0);
  });
});
