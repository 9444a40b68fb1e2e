// Eigen-CAM when the top two principal components are nearly tied (σ₂/σ₁ ≥ 0.95): the map must still be the
// projection on the first component, checked against an SVD of the same activations (ml-matrix). Power iteration
// with a fixed step count (the method's former solver, 60 steps) gave r = 0.65–0.99996 on these cases.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs';
import { Matrix, SVD } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { camMethod } from '../src/saliency/methods/index.js';
import { topEigenpair } from '../src/saliency/sym-eigen.js';
import { seededRandom } from './helpers/toy-models.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** r orthonormal columns of length m (Gram–Schmidt on seeded noise), orthogonal to the all-ones vector if asked. */
function orthonormal(m: number, r: number, rnd: () => number, offOnes: boolean): number[][] {
  const cols: number[][] = offOnes ? [new Array(m).fill(1 / Math.sqrt(m))] : [];
  const start = cols.length;
  while (cols.length < r + start) {
    const v = Array.from({ length: m }, () => rnd() - 0.5);
    for (const c of cols) {
      const dot = v.reduce((s, x, i) => s + x * c[i]!, 0);
      for (let i = 0; i < m; i++) v[i]! -= dot * c[i]!;
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return cols.slice(start);
}

/** Activations [cells, channels] = channel offsets + U diag(σ) Vᵀ, with U's columns centred (so centring keeps them). */
function activations(cells: number, channels: number, sigma: number[], seed: number): Float32Array {
  const rnd = seededRandom(seed);
  const U = orthonormal(cells, sigma.length, rnd, true);
  const V = orthonormal(channels, sigma.length, rnd, false);
  const offsets = Array.from({ length: channels }, () => 1 + rnd());
  const X = new Float32Array(cells * channels);
  for (let p = 0; p < cells; p++) {
    for (let c = 0; c < channels; c++) {
      let v = offsets[c]!;
      sigma.forEach((s, k) => (v += s * U[k]![p]! * V[k]![c]!));
      X[p * channels + c] = v;
    }
  }
  return X;
}

/** The map from an SVD of the centred activations, with the method's sign (positive correlation with the mean activation). */
function svdMap(X: Float32Array, cells: number, channels: number): number[] {
  const M = new Matrix(cells, channels);
  for (let p = 0; p < cells; p++) for (let c = 0; c < channels; c++) M.set(p, c, X[p * channels + c]!);
  const mean = M.mean('column');
  for (let p = 0; p < cells; p++) for (let c = 0; c < channels; c++) M.set(p, c, M.get(p, c) - mean[c]!);
  const v = new SVD(M).rightSingularVectors.getColumn(0);
  let proj = Array.from({ length: cells }, (_, p) => v.reduce((s, vc, c) => s + vc * M.get(p, c), 0));
  const meanAct = Array.from({ length: cells }, (_, p) => X.subarray(p * channels, (p + 1) * channels).reduce((a, b) => a + b, 0) / channels);
  const mm = meanAct.reduce((a, b) => a + b, 0) / cells;
  if (proj.reduce((s, x, p) => s + x * (meanAct[p]! - mm), 0) < 0) proj = proj.map((x) => -x);
  return proj.map((x) => Math.max(0, x));
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const ma = Array.from(a).reduce((s, v) => s + v, 0) / n;
  const mb = Array.from(b).reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

async function eigencam(X: Float32Array, h: number, w: number, c: number): Promise<Float32Array> {
  const act = tf.tensor4d(X, [1, h, w, c]);
  const before = tf.memory().numTensors;
  const ctx = { input: act, activation: () => act, gradients: () => [], scoreInputs: () => [] } as never;
  const out = await camMethod('eigencam').compute(ctx, ['toy'], [{ label: 'a', classId: 0, cells: [[0, 0]] }]);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  expect(tf.memory().numTensors).toBe(before); // every intermediate tensor freed
  act.dispose();
  return data;
}

describe('Eigen-CAM with nearly tied top components', () => {
  // [h, w, channels, σ₂/σ₁]: more cells than channels (the C×C Gram matrix), and fewer (the hw×hw one).
  const cases: [number, number, number, number][] = [
    [8, 8, 16, 0.95],
    [8, 8, 16, 0.99],
    [16, 16, 32, 0.995],
    [3, 3, 40, 0.99],
  ];
  it.each(cases)('%ix%i cells, %i channels, σ₂/σ₁ = %f: the first component, as an SVD finds it', async (h, w, c, ratio) => {
    const sigma = [10, 10 * ratio, 4, 2, 1, 0.5].slice(0, Math.min(h * w - 1, c));
    const X = activations(h * w, c, sigma, 1000 + c);
    const want = svdMap(X, h * w, c);
    expect(want.filter((v) => v > 0).length).toBeGreaterThan(2); // not degenerate
    const got = await eigencam(X, h, w, c);
    expect(pearson(got, want)).toBeGreaterThan(0.99999);
    const scale = Math.max(...want);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!) / scale).toBeLessThan(1e-3);
  });

  it('topEigenpair: exact on a diagonal matrix with a near tie, and A v = λ v on a random one', () => {
    const diag = [3, 7, 7 - 1e-9, 1];
    const D = diag.flatMap((d, i) => diag.map((_, j) => (i === j ? d : 0)));
    const top = topEigenpair(D, 4);
    expect(top.value).toBeCloseTo(7, 12);
    expect(Math.abs(top.vector[1]!)).toBeCloseTo(1, 6);
    const rnd = seededRandom(5);
    const n = 30;
    const B = Array.from({ length: n * n }, () => rnd() - 0.5);
    const A = Array.from({ length: n * n }, (_, k) => {
      const i = Math.floor(k / n);
      const j = k % n;
      let s = 0;
      for (let t = 0; t < n; t++) s += B[t * n + i]! * B[t * n + j]!;
      return s;
    });
    const { value, vector } = topEigenpair(A, n);
    const svd = new SVD(new Matrix(Array.from({ length: n }, (_, i) => A.slice(i * n, (i + 1) * n))));
    expect(value).toBeCloseTo(svd.diagonal[0]!, 10);
    for (let i = 0; i < n; i++) {
      const Av = vector.reduce((s, v, j) => s + A[i * n + j]! * v, 0);
      expect(Math.abs(Av - value * vector[i]!)).toBeLessThan(1e-10 * value);
    }
  });
});
