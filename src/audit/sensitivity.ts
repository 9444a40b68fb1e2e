// Max-sensitivity (Yeh et al. 2019): the largest relative change of the map under small input noise,
//   max_i ||explain(x + n_i) - explain(x)||_2 / ||explain(x)||_2,  n_i ~ U[-r*255, r*255] per channel value.
// 0 = the map ignores imperceptible noise; larger = less robust. Noise is seeded so runs repeat.
import { UserError } from '../errors.js';
import { checkImage } from './image.js';
import { mixSeed, mulberry32, randomMap } from './rng.js';
import type { Explain } from './types.js';

export interface SensitivityOptions {
  /** Noisy samples (default 8). */
  samples: number;
  /** Noise radius as a fraction of the 0-255 range (default 0.02, i.e. ±5.1 levels). */
  radius: number;
  seed: number;
  /** The map on the unperturbed image, when the caller already has it from the same explainer. */
  baseMap?: Float32Array;
}

/** x + uniform noise in ±radius*255, rounded and clipped to 0..255 (the images stay RGB24). */
export function addUniformNoise(rgb: Uint8Array, radius: number, next: () => number): Uint8Array {
  const amp = radius * 255;
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) {
    // Clip explicitly: a Uint8Array store wraps (256 -> 0) instead of clamping.
    out[i] = Math.min(255, Math.max(0, Math.round(rgb[i]! + (2 * next() - 1) * amp)));
  }
  return out;
}

export async function maxSensitivity(
  rgb: Uint8Array,
  width: number,
  height: number,
  explain: Explain,
  options: Partial<SensitivityOptions> = {},
): Promise<number> {
  const { samples = 8, radius = 0.02, seed = 0, baseMap } = options;
  checkImage(rgb, width, height);
  checkSensitivityOptions(samples, radius);
  const base = baseMap ?? (await explain(rgb, width, height));
  const baseNorm = l2(base);
  let worst = 0;
  for (let s = 0; s < samples; s++) {
    const noisy = addUniformNoise(rgb, radius, mulberry32(mixSeed(seed, s)));
    const m = await explain(noisy, width, height);
    if (m.length !== base.length) throw new Error(`audit: explain returned ${m.length} values, expected ${base.length}`);
    worst = Math.max(worst, relativeDistance(m, base, baseNorm));
  }
  return worst;
}

/**
 * Max-sensitivity of several maps of one image at once (the detections of a frame): each noisy copy is explained
 * once and read for every map. `explainAll` returns, per base map, its map on the noisy copy, or undefined when
 * that detection is gone there (the map vanished: a relative change of 1).
 */
export async function maxSensitivities(
  rgb: Uint8Array,
  width: number,
  height: number,
  explainAll: (noisy: Uint8Array) => Promise<(Float32Array | undefined)[]>,
  baseMaps: readonly Float32Array[],
  options: { samples: number; radius: number; seed: number; /** Noisy copies explained at once (a worker pool's size); 1 by default. */ concurrency?: number },
): Promise<number[]> {
  checkImage(rgb, width, height);
  checkSensitivityOptions(options.samples, options.radius);
  const norms = baseMaps.map(l2);
  const worst = baseMaps.map(() => 0);
  const step = Math.max(1, options.concurrency ?? 1);
  for (let first = 0; first < options.samples; first += step) {
    // Each copy's noise is seeded by its index, so explaining several at once changes nothing but the time.
    const group = Array.from({ length: Math.min(step, options.samples - first) }, (_, k) => addUniformNoise(rgb, options.radius, mulberry32(mixSeed(options.seed, first + k))));
    for (const maps of await Promise.all(group.map(explainAll))) {
      baseMaps.forEach((base, i) => {
        const m = maps[i] ?? new Float32Array(base.length);
        if (m.length !== base.length) throw new Error(`audit: explain returned ${m.length} values, expected ${base.length}`);
        worst[i] = Math.max(worst[i]!, relativeDistance(m, base, norms[i]!));
      });
    }
  }
  return worst;
}

/**
 * The random baseline: an "explainer" whose output has nothing to do with the input (a fresh uniform random
 * map per call). Its max-sensitivity is about 0.7 for any image: what a map unrelated to the pixels scores.
 */
export function randomExplainSensitivity(mapWidth: number, mapHeight: number, samples: number, seed: number): number {
  const base = randomMap(mapWidth, mapHeight, mixSeed(seed, -1)).data;
  const baseNorm = l2(base);
  let worst = 0;
  for (let s = 0; s < samples; s++) {
    worst = Math.max(worst, relativeDistance(randomMap(mapWidth, mapHeight, mixSeed(seed, s)).data, base, baseNorm));
  }
  return worst;
}

function l2(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

function relativeDistance(a: Float32Array, base: Float32Array, baseNorm: number): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += (a[i]! - base[i]!) ** 2;
  d = Math.sqrt(d);
  // An all-zero base map: any change is infinitely large relative to it, no change is 0.
  if (baseNorm === 0) return d === 0 ? 0 : Infinity;
  return d / baseNorm;
}

function checkSensitivityOptions(samples: number, radius: number): void {
  if (!Number.isInteger(samples) || samples < 1) throw new UserError(`sensitivity samples must be a positive integer, got ${samples}`);
  if (!(radius >= 0 && radius <= 1)) throw new UserError(`sensitivity radius must be in [0, 1] (share of 0-255), got ${radius}`);
}
