// Integrated Gradients (Sundararajan et al. 2017): a pixel-level reference attribution,
//   attr = (x - x') * mean over alpha of dF/dx at x' + alpha (x - x'),
// whose sum should equal F(x) - F(x') (completeness); the relative gap measures how well the path integral
// was approximated. Gradients need the TF.js gradient kernels registered (tfjs-core alone has none).
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';

/** Maps a batch [b, h, w, c] to one score per row [b]. Rows must not interact (no batch statistics). */
export type BatchScore = (x: tf.Tensor4D) => tf.Tensor1D;

export type IgBaseline = 'black' | 'blur' | tf.Tensor4D;

export interface IgOptions {
  /** Points on the path (default 50). */
  steps: number;
  /** Interpolated images per gradient call (default 10); bounds memory. */
  batchSize: number;
  /** 'midpoint' (default, error O(1/steps^2) and no wasted endpoint) or 'trapezoid'. */
  rule: 'midpoint' | 'trapezoid';
  /** Sigma in pixels of the 'blur' baseline; default max(1, 2% of the longer side). */
  blurSigma?: number;
}

export interface IgResult {
  width: number;
  height: number;
  /** [h, w] attribution, summed over channels, row-major. */
  attribution: Float32Array;
  /** Sum of the attribution. */
  total: number;
  fInput: number;
  fBaseline: number;
  /** |total - (fInput - fBaseline)| / |fInput - fBaseline|; NaN when the two scores are equal. */
  completenessError: number;
}

export async function integratedGradients(
  f: BatchScore,
  input: tf.Tensor4D,
  baseline: IgBaseline = 'black',
  options: Partial<IgOptions> = {},
): Promise<IgResult> {
  const { steps = 50, batchSize = 10, rule = 'midpoint' } = options;
  if (input.rank !== 4 || input.shape[0] !== 1) throw new Error(`audit: IG input must be [1, h, w, c], got [${input.shape.join(', ')}]`);
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`IG steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`IG batch size must be a positive integer, got ${batchSize}`);
  const [, h, w] = input.shape;

  const base = makeBaseline(input, baseline, options.blurSigma);
  const diff = tf.sub(input, base) as tf.Tensor4D;
  const { alphas, weights } = pathPoints(steps, rule);
  const gradOf = tf.grad((x: tf.Tensor) => tf.sum(f(x as tf.Tensor4D)));

  // Weighted sum of the gradients along the path, one batch of interpolated images at a time.
  let acc: tf.Tensor = tf.zerosLike(input);
  try {
    for (let i = 0; i < alphas.length; i += batchSize) {
      const a = alphas.slice(i, i + batchSize);
      const wts = weights.slice(i, i + batchSize);
      const next = tf.tidy(() => {
        const alpha = tf.reshape(tf.tensor1d(a), [a.length, 1, 1, 1]);
        const xs = tf.add(base, tf.mul(alpha, diff));
        const g = gradOf(xs);
        const weighted = tf.sum(tf.mul(g, tf.reshape(tf.tensor1d(wts), [wts.length, 1, 1, 1])), 0, true);
        return tf.add(acc, weighted);
      });
      acc.dispose();
      acc = next;
      await new Promise((r) => setImmediate(r)); // keep the event loop (progress, SIGINT) alive between batches
    }
  } catch (err) {
    acc.dispose();
    diff.dispose();
    if (base !== baseline) base.dispose();
    if (err instanceof Error && /gradient function not found/i.test(err.message)) {
      throw new Error(`audit: IG needs TF.js gradients registered (import '@tensorflow/tfjs-core/dist/register_all_gradients' or use @tensorflow/tfjs): ${err.message}`);
    }
    throw err;
  }

  const finalAcc = acc;
  let attrData: Float32Array | Int32Array | Uint8Array;
  let scores: Float32Array | Int32Array | Uint8Array;
  const made: tf.Tensor[] = [];
  try {
    const attrT = tf.tidy(() => tf.sum(tf.mul(finalAcc, diff), [0, 3]));
    made.push(attrT);
    const scoresT = tf.tidy(() => f(tf.concat([input, base], 0)));
    made.push(scoresT);
    [attrData, scores] = await Promise.all([attrT.data(), scoresT.data()]);
  } finally {
    // Freed on failure too (a throwing score function must not leak the path's tensors).
    tf.dispose([...made, finalAcc, diff]);
    if (base !== baseline) base.dispose();
  }

  const attribution = Float32Array.from(attrData);
  let total = 0;
  for (const v of attribution) total += v;
  const fInput = scores[0]!;
  const fBaseline = scores[1]!;
  const gap = fInput - fBaseline;
  return {
    width: w,
    height: h,
    attribution,
    total,
    fInput,
    fBaseline,
    completenessError: gap === 0 ? NaN : Math.abs(total - gap) / Math.abs(gap),
  };
}

/** Path positions and quadrature weights on [0, 1]. */
export function pathPoints(steps: number, rule: 'midpoint' | 'trapezoid'): { alphas: number[]; weights: number[] } {
  if (rule === 'midpoint') {
    return { alphas: Array.from({ length: steps }, (_, k) => (k + 0.5) / steps), weights: new Array(steps).fill(1 / steps) };
  }
  const alphas = Array.from({ length: steps + 1 }, (_, k) => k / steps);
  const weights = alphas.map((_, k) => (k === 0 || k === steps ? 0.5 : 1) / steps);
  return { alphas, weights };
}

function makeBaseline(input: tf.Tensor4D, baseline: IgBaseline, blurSigma?: number): tf.Tensor4D {
  if (baseline === 'black') return tf.zerosLike(input);
  if (baseline === 'blur') {
    const [, h, w] = input.shape;
    return gaussianBlur(input, blurSigma ?? Math.max(1, Math.round(0.02 * Math.max(h, w))));
  }
  if (baseline.shape.join() !== input.shape.join()) {
    throw new Error(`audit: IG baseline shape [${baseline.shape.join(', ')}] differs from input [${input.shape.join(', ')}]`);
  }
  return baseline;
}

/** Separable Gaussian blur of [b, h, w, c] with mirrored edges (zero padding would darken the borders). */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w, c] = x.shape;
    const radius = Math.max(0, Math.min(Math.ceil(3 * sigma), h - 1, w - 1));
    if (radius === 0) return tf.clone(x);
    const k = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
    const s = k.reduce((a, b) => a + b, 0);
    const k1 = tf.tensor1d(k.map((v) => v / s));
    // depthwise filter [fh, fw, c, 1]: the same 1-D kernel for every channel.
    const kx = tf.tile(tf.reshape(k1, [1, 2 * radius + 1, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    const ky = tf.tile(tf.reshape(k1, [2 * radius + 1, 1, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    const padded = tf.mirrorPad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], 'reflect');
    const bx = tf.depthwiseConv2d(padded, kx, 1, 'valid');
    return tf.depthwiseConv2d(bx, ky, 1, 'valid');
  });
}
