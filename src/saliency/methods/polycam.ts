import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { CamMethod, CamContext } from '../method.js';
import type { CamTarget } from '../targets.js';
import { fuseLayers } from '../lnorm.js';
import { weightedSum } from '../normalise.js';

/** PolyCAM's parameters, with defaults and choices: its registry row declares them, settings nest them under `methodParams.polycam`. */
export const polycamParams = z.strictObject({
  variant: z.enum(['plus', 'minus', 'pm']).default('plus').describe('PolyCAM variant: PCAM+ (plus), PCAM- (minus), PCAM± (pm)'),
});
export type PolycamParams = z.infer<typeof polycamParams>;
export type PolycamVariant = PolycamParams['variant'];

/** Masked inputs scored per forward batch: bounds memory (B × input size) while keeping batches useful. */
const MASK_BATCH = 8;
const OUTLIER_PERCENT = 0.1;

/**
 * Per-channel [0,1] normalisation by the 0.1th and 99.9th percentiles, as in the official PolyCAM code
 * ((x - p_low) / p_high, clipped). Percentiles are found on the host: this method is offline anyway.
 */
export async function percentileNormalise(A: tf.Tensor4D): Promise<tf.Tensor4D> {
  const [, h, w, c] = A.shape;
  const chw = tf.tidy(() => tf.transpose(tf.reshape(A, [h * w, c])));
  const data = await chw.data();
  chw.dispose();
  const lo = new Float32Array(c);
  const hi = new Float32Array(c);
  const n = h * w;
  for (let ch = 0; ch < c; ch++) {
    const sorted = Float32Array.from(data.subarray(ch * n, (ch + 1) * n)).sort();
    lo[ch] = percentile(sorted, OUTLIER_PERCENT);
    hi[ch] = percentile(sorted, 100 - OUTLIER_PERCENT);
  }
  return tf.tidy(() => {
    const low = tf.tensor1d(lo);
    const high = tf.maximum(tf.tensor1d(hi), 1e-12);
    return tf.clipByValue(tf.div(tf.sub(A, low), high), 0, 1) as tf.Tensor4D;
  });
}

/** Linear-interpolated percentile of sorted values (NumPy's default). */
export function percentile(sorted: Float32Array, p: number): number {
  const pos = ((sorted.length - 1) * p) / 100;
  const i = Math.floor(pos);
  const f = pos - i;
  return sorted[i]! + (i + 1 < sorted.length ? (sorted[i + 1]! - sorted[i]!) * f : 0);
}

/** Scores [C,K] of the input masked by each channel's mask (or its complement). */
function maskedScores(ctx: CamContext, masks: tf.Tensor4D, targets: CamTarget[], complement: boolean): tf.Tensor2D {
  const [c] = masks.shape;
  const [, H, W] = ctx.input.shape;
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < c; start += MASK_BATCH) {
    const size = Math.min(MASK_BATCH, c - start);
    parts.push(
      tf.tidy(() => {
        let m = tf.image.resizeBilinear(tf.slice(masks, start, size), [H, W]);
        if (complement) m = tf.sub(1, m);
        return ctx.scoreInputs(tf.mul(ctx.input, m), targets);
      }),
    );
  }
  const out = tf.concat(parts);
  tf.dispose(parts);
  return out;
}

/**
 * PolyCAM (Englebert et al. 2022), gradient-free: at each layer every channel's normalised activation masks the
 * input and the masked score weights that channel (PCAM+: the score; PCAM−: the drop when the channel's region is
 * removed; PCAM±: both), then layers are fused from low to high resolution with local normalisation.
 * Costs one forward pass per channel of every layer: for export and audit, not live video.
 */
export function polycam(variant: PolycamVariant): CamMethod {
  return {
    name: 'polycam',
    needsGradients: false,
    multiLayer: true,
    realtime: false,
    classAgnostic: false,
    scoresBatches: true,
    needsClassWeights: false,
    compute: (ctx, layers, targets) => computePolycam(ctx, layers, targets, variant),
  };
}

export async function computePolycam(ctx: CamContext, layers: string[], targets: CamTarget[], variant: PolycamVariant): Promise<tf.Tensor3D> {
  const base = variant === 'plus' ? null : ctx.scoreInputs(ctx.input, targets); // [1,K]
  const maps: tf.Tensor3D[] = [];
  for (const layer of layers) {
    const A = ctx.activation(layer);
    const normed = await percentileNormalise(A);
    const masks = tf.tidy(() => tf.transpose(normed, [3, 1, 2, 0]) as tf.Tensor4D); // [C,h,w,1]
    normed.dispose();
    const weights = tf.tidy(() => {
      let w: tf.Tensor2D;
      if (variant === 'plus') w = maskedScores(ctx, masks, targets, false);
      else if (variant === 'minus') w = tf.relu(tf.sub(base!, maskedScores(ctx, masks, targets, true)) as tf.Tensor2D);
      else w = tf.relu(tf.sub(tf.add(maskedScores(ctx, masks, targets, false), base!), maskedScores(ctx, masks, targets, true)) as tf.Tensor2D);
      return tf.transpose(w) as tf.Tensor2D; // [K,C]
    });
    masks.dispose();
    maps.push(weightedSum(A, weights));
    weights.dispose();
  }
  base?.dispose();
  const fused = fuseLayers(maps);
  tf.dispose(maps);
  return fused;
}
