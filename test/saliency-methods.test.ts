// Each CAM method's arithmetic on a tiny model whose answer the test computes independently, in plain JS:
// closed forms for a linear head, finite differences for a non-linear one, an SVD for Eigen-CAM.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs';
import { Matrix, SVD } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { sumsOfGradients, type CamContext } from '../src/saliency/method.js';
import { CAM_METHODS, camMethod } from '../src/saliency/methods/index.js';
import { auditSchema, dashboardSchema, explainSchema, METHOD_PARAM_SCHEMAS, settingsIssue } from '../src/settings.js';
import { fuseLayers } from '../src/saliency/lnorm.js';
import { percentile } from '../src/saliency/methods/polycam.js';
import { batchedScore, type CamTarget } from '../src/saliency/targets.js';

const H = 4;
const W = 5;
const C = 3;
const K = 2;

/** Deterministic pseudo-random numbers (so failures reproduce). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
const rand = rng(42);
const A = Float32Array.from({ length: H * W * C }, () => 0.1 + rand()); // positive activations [h,w,c]
const Wt = Float32Array.from({ length: K * H * W * C }, () => rand() - 0.4); // head weights [k,h,w,c]
const at = (i: number, j: number, c: number) => (i * W + j) * C + c;

type Head = (a: tf.Tensor4D) => tf.Tensor2D;
/** score_k = Σ W_k ⊙ A (linear): ∂S_k/∂A = W_k. */
const linearHead: Head = (a) => tf.tidy(() => tf.sum(tf.mul(tf.expandDims(a, 1), tf.tensor4d(Wt, [K, H, W, C]).reshape([1, K, H, W, C])), [2, 3, 4]) as tf.Tensor2D);
/** score_k = Σ tanh(W_k ⊙ A) + (Σ W_k ⊙ A)² / 10 (non-linear). */
const nonlinearHead: Head = (a) =>
  tf.tidy(() => {
    const prod = tf.mul(tf.expandDims(a, 1), tf.tensor4d(Wt, [K, H, W, C]).reshape([1, K, H, W, C]));
    return tf.add(tf.sum(tf.tanh(prod), [2, 3, 4]), tf.div(tf.square(tf.sum(prod, [2, 3, 4])), 10)) as tf.Tensor2D;
  });
function jsNonlinear(a: Float32Array, k: number): number {
  let t = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]! * Wt[k * H * W * C + i]!;
    t += Math.tanh(p);
    s += p;
  }
  return t + (s * s) / 10;
}

const targets: CamTarget[] = [0, 1].map((k) => ({ label: `c${k}`, classId: k, cells: [[0, k]] }));

function toyContext(head: Head, sequential = false): CamContext {
  const act = tf.tensor4d(A, [1, H, W, C]);
  const grads = (ts: CamTarget[]) =>
    tf.tidy(() => {
      const aK = tf.concat(new Array<tf.Tensor>(ts.length).fill(act));
      return tf.grad((a) => batchedScore([head(a as tf.Tensor4D)], ts))(aK) as tf.Tensor4D;
    });
  const gradients = (ts: CamTarget[]) => (sequential ? (tf.concat(ts.map((t) => grads([t]))) as tf.Tensor4D) : grads(ts));
  return {
    input: act,
    activation: () => act,
    gradients: (_layers, ts) => [gradients(ts)],
    gradientSums: (_layer, ts, weighting) => tf.tidy(() => sumsOfGradients(act, gradients(ts), weighting)),
    scoreInputs: () => {
      throw new Error('not used');
    },
  };
}

async function camOf(name: 'xgradcam' | 'gradcam' | 'gradcam++' | 'eigencam' | 'hirescam', head: Head, sequential = false): Promise<Float32Array> {
  const out = await camMethod(name).compute(toyContext(head, sequential), ['toy'], targets);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

/** ReLU(Σ_c w_c A_c) for one target, in plain JS. */
function jsMap(w: number[]): number[] {
  const m: number[] = [];
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) m.push(Math.max(0, w.reduce((s, wc, c) => s + wc * A[at(i, j, c)]!, 0)));
  return m;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs), 1e-12);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!) / scale).toBeLessThan(rel);
}

const grad = (k: number, i: number, j: number, c: number) => Wt[k * H * W * C + at(i, j, c)]!;
const sumA = (c: number) => Array.from({ length: H * W }, (_, p) => A[p * C + c]!).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('gradient CAMs on a linear head (closed form: ∂S_k/∂A = W_k)', () => {
  it('XGrad-CAM: w_kc = Σ A·∂S/∂A / Σ A', async () => {
    const got = await camOf('xgradcam', linearHead);
    const want = [0, 1].flatMap((k) =>
      jsMap([0, 1, 2].map((c) => {
        let num = 0;
        for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) num += A[at(i, j, c)]! * grad(k, i, j, c);
        return num / sumA(c);
      })),
    );
    expect(Math.max(...want)).toBeGreaterThan(0); // the case is not degenerate
    expectClose(got, want);
  });

  it('HiResCAM: map = ReLU(Σ_c A ⊙ ∂S/∂A), no channel pooling', async () => {
    const got = await camOf('hirescam', linearHead);
    const want = [0, 1].flatMap((k) => {
      const m: number[] = [];
      for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) m.push(Math.max(0, [0, 1, 2].reduce((s, c) => s + A[at(i, j, c)]! * grad(k, i, j, c), 0)));
      return m;
    });
    expect(Math.max(...want)).toBeGreaterThan(0);
    expect(Math.min(...want)).toBe(0); // some cells negative before the ReLU: not degenerate
    expectClose(got, want);
  });

  it('Grad-CAM: w_kc = mean ∂S/∂A', async () => {
    const got = await camOf('gradcam', linearHead);
    const want = [0, 1].flatMap((k) =>
      jsMap([0, 1, 2].map((c) => {
        let s = 0;
        for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) s += grad(k, i, j, c);
        return s / (H * W);
      })),
    );
    expectClose(got, want);
  });

  it('Grad-CAM++: α = g²/(2g² + ΣA·g³), w = Σ α·ReLU(g)', async () => {
    const got = await camOf('gradcam++', linearHead);
    const want = [0, 1].flatMap((k) =>
      jsMap([0, 1, 2].map((c) => {
        let w = 0;
        for (let i = 0; i < H; i++)
          for (let j = 0; j < W; j++) {
            const g = grad(k, i, j, c);
            const den = 2 * g * g + sumA(c) * g * g * g;
            w += (den !== 0 ? (g * g) / den : 0) * Math.max(g, 0);
          }
        return w;
      })),
    );
    expectClose(got, want);
  });
});

describe('gradient CAMs on a non-linear head', () => {
  it('XGrad-CAM matches finite-difference gradients', async () => {
    const got = await camOf('xgradcam', nonlinearHead);
    const eps = 1e-3;
    const want = [0, 1].flatMap((k) => {
      const w = [0, 1, 2].map((c) => {
        let num = 0;
        for (let i = 0; i < H; i++)
          for (let j = 0; j < W; j++) {
            const plus = Float32Array.from(A);
            const minus = Float32Array.from(A);
            plus[at(i, j, c)]! += eps;
            minus[at(i, j, c)]! -= eps;
            num += A[at(i, j, c)]! * ((jsNonlinear(plus, k) - jsNonlinear(minus, k)) / (2 * eps));
          }
        return num / sumA(c);
      });
      return jsMap(w);
    });
    // float32 forward + central differences: agreement to ~1e-3 of the map's scale
    expectClose(got, want, 2e-3);
  });

  it('K targets in one batched backward pass equal K separate passes', async () => {
    const batched = await camOf('xgradcam', nonlinearHead, false);
    const sequential = await camOf('xgradcam', nonlinearHead, true);
    expectClose(batched, sequential, 1e-4);
  });
});

describe('Eigen-CAM', () => {
  it('projects the centred activations on their first right singular vector (checked with an SVD)', async () => {
    const got = await camOf('eigencam', linearHead);
    const X = new Matrix(H * W, C);
    for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) X.set(p, c, A[p * C + c]!);
    const mean = X.mean('column');
    for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) X.set(p, c, X.get(p, c) - mean[c]!);
    const v = new SVD(X).rightSingularVectors.getColumn(0);
    let proj = Array.from({ length: H * W }, (_, p) => v.reduce((s, vc, c) => s + vc * X.get(p, c), 0));
    // The component's sign is arbitrary: the method picks the one correlating with the mean activation.
    const meanAct = Array.from({ length: H * W }, (_, p) => (A[p * C]! + A[p * C + 1]! + A[p * C + 2]!) / 3);
    const mm = meanAct.reduce((a, b) => a + b, 0) / meanAct.length;
    if (proj.reduce((s, x, p) => s + x * (meanAct[p]! - mm), 0) < 0) proj = proj.map((x) => -x);
    const want = proj.map((x) => Math.max(0, x));
    expectClose(got.subarray(0, H * W), want, 1e-3);
    expectClose(got.subarray(H * W), want, 1e-3); // class-agnostic: same map for every target
  });
});

describe('PolyCAM pieces', () => {
  it('percentile matches NumPy linear interpolation', () => {
    const sorted = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(sorted, 50)).toBeCloseTo(5.5, 6);
    expect(percentile(sorted, 99.9)).toBeCloseTo(9.991, 4);
    expect(percentile(sorted, 0.1)).toBeCloseTo(1.009, 4);
  });

  it('fusion with a flat coarse map gives the fine map divided by its cell means (LNorm)', async () => {
    const fine = tf.tensor3d(Float32Array.from({ length: 16 }, (_, i) => 1 + (i % 5)), [1, 4, 4]);
    const coarse = tf.fill([1, 2, 2], 3) as tf.Tensor3D;
    const fused = fuseLayers([coarse, fine]);
    const f = await fine.data();
    const got = await fused.data();
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) {
        const cy = Math.floor(y / 2) * 2;
        const cx = Math.floor(x / 2) * 2;
        const cellMean = (f[cy * 4 + cx]! + f[cy * 4 + cx + 1]! + f[(cy + 1) * 4 + cx]! + f[(cy + 1) * 4 + cx + 1]!) / 4;
        expect(got[y * 4 + x]!).toBeCloseTo((f[y * 4 + x]! / cellMean) * 3, 4);
      }
    tf.dispose([fine, coarse, fused]);
  });
});

describe('the registry is the one list of methods', () => {
  it("settings' method enum (CLI, `set`, engine) is the registry's keys, and each row's method bears its key", () => {
    expect(explainSchema.shape.method.unwrap().options).toEqual(CAM_METHODS);
    expect(dashboardSchema.shape.method.unwrap().options).toEqual(CAM_METHODS);
    expect(CAM_METHODS).toEqual(['xgradcam', 'gradcam', 'gradcam++', 'eigencam', 'polycam', 'xpolycam', 'cam', 'hirescam']);
    for (const name of CAM_METHODS) expect(camMethod(name).name).toBe(name);
    expect(explainSchema.safeParse({ method: 'toycam' }).success).toBe(false);
  });

  it("a method's parameters are its row's schema, nested under the method in the settings, with its flag in messages", () => {
    expect(Object.keys(METHOD_PARAM_SCHEMAS)).toEqual(['polycam']);
    expect(explainSchema.parse({}).methodParams).toEqual({ polycam: { variant: 'plus' } });
    expect(explainSchema.parse({ methodParams: { polycam: { variant: 'pm' } } }).methodParams).toEqual({ polycam: { variant: 'pm' } });
    expect(dashboardSchema.parse({}).methodParams).toEqual({ polycam: { variant: 'plus' } });
    const bad = explainSchema.safeParse({ methodParams: { polycam: { variant: 'both' } } });
    expect(bad.success).toBe(false);
    expect(settingsIssue(bad.error!)).toMatch(/^--polycam-variant: .*"plus"\|"minus"\|"pm"/);
    // Strict: a parameter a method does not have, or a method without parameters, is refused.
    expect(explainSchema.safeParse({ methodParams: { polycam: { varient: 'plus' } } }).success).toBe(false);
    expect(explainSchema.safeParse({ methodParams: { xgradcam: {} } }).success).toBe(false);
  });

  it("the audit's settings have their defaults and bounds, and bad values name the flag", () => {
    expect(auditSchema.parse({})).toMatchObject({ every: 10, steps: 10, samples: 8, radius: 0.02, baseline: 'blur', randomMaps: 3, igSteps: 50, gallery: 12 });
    for (const [value, flag] of [[{ steps: 1 }, '--steps'], [{ every: 0.5 }, '--every'], [{ randomMaps: 101 }, '--random-maps'], [{ methods: ['xgradcam', 'foo'] }, '--methods'], [{ methods: ['ig', 'ig'] }, '--methods']] as const) {
      const r = auditSchema.safeParse(value);
      expect(r.success, JSON.stringify(value)).toBe(false);
      expect(settingsIssue(r.error!)).toMatch(new RegExp(`^${flag}: `));
    }
  });
});
