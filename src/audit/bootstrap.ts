// 95 % intervals for the audit's means (Tomsett et al. 2020: saliency metrics are noisy and rankings flip).
// Detections of one frame share the image, so they are not independent: the bootstrap resamples whole frames
// (a cluster bootstrap) and the statistic is the mean over the detections of the resampled frames. Seeded, so a
// report repeats.
import { mixSeed, mulberry32 } from './rng.js';

export interface Interval {
  mean: number;
  /** Percentile interval of the bootstrap means; [NaN, NaN] when n = 0. */
  ci95: [number, number];
  /** Values used (finite ones). */
  n: number;
  /** Clusters (frames) they came from. */
  clusters: number;
}

export interface BootstrapOptions {
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  seed?: number;
}

/** One value to average, the cluster it belongs to (its frame) and its weight (default 1). */
export interface Observation {
  value: number;
  cluster: number;
  weight?: number;
}

/**
 * Weighted mean of the finite values and its 95 % cluster-bootstrap interval: each resample draws as many
 * clusters as there are, with replacement, and takes the weighted mean of their values.
 */
export function clusterBootstrap(observations: readonly Observation[], options: BootstrapOptions = {}): Interval {
  const resamples = options.resamples ?? 2000;
  const byCluster = new Map<number, { sum: number; weight: number }>();
  let n = 0;
  for (const o of observations) {
    const w = o.weight ?? 1;
    if (!Number.isFinite(o.value) || !(w > 0)) continue;
    n++;
    const c = byCluster.get(o.cluster) ?? { sum: 0, weight: 0 };
    c.sum += o.value * w;
    c.weight += w;
    byCluster.set(o.cluster, c);
  }
  if (n === 0) return { mean: NaN, ci95: [NaN, NaN], n: 0, clusters: 0 };
  const clusters = [...byCluster.values()];
  const k = clusters.length;
  const mean = clusters.reduce((a, c) => a + c.sum, 0) / clusters.reduce((a, c) => a + c.weight, 0);
  const rand = mulberry32(mixSeed(options.seed ?? 0, k, n));
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    let weight = 0;
    for (let i = 0; i < k; i++) {
      const c = clusters[Math.floor(rand() * k)]!;
      sum += c.sum;
      weight += c.weight;
    }
    means[r] = sum / weight;
  }
  means.sort();
  return { mean, ci95: [quantile(means, 0.025), quantile(means, 0.975)], n, clusters: k };
}

/** The smallest sample value whose empirical CDF reaches p (the inverse of the step CDF). */
function quantile(sorted: Float64Array, p: number): number {
  const i = Math.max(0, Math.ceil(p * sorted.length - 1e-9) - 1);
  return sorted[Math.min(sorted.length - 1, i)]!;
}

export interface Difference extends Interval {
  /** The interval excludes 0. */
  significant: boolean;
}

/**
 * Paired difference a − b over the items both have finite values for (same detection, two methods), with
 * its cluster-bootstrap interval; significant when the interval excludes 0 and comes from 2 frames or more
 * (one frame's resamples are all the same: a zero-width interval that is no evidence).
 */
export function pairedDifference(pairs: readonly { a: number; b: number; cluster: number }[], options: BootstrapOptions = {}): Difference {
  const d = clusterBootstrap(
    pairs.filter((p) => Number.isFinite(p.a) && Number.isFinite(p.b)).map((p) => ({ value: p.a - p.b, cluster: p.cluster })),
    options,
  );
  return { ...d, significant: d.clusters >= 2 && (d.ci95[0] > 0 || d.ci95[1] < 0) };
}
