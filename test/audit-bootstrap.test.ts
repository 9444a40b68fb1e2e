// The audit's intervals against closed forms: resampling 20 frames of 0/1 values draws the mean from
// Binomial(20, p)/20 exactly, so the 2.5 % / 97.5 % points are the binomial's quantiles.
import { describe, expect, it } from 'vitest';
import { clusterBootstrap, pairedDifference } from '../src/audit/bootstrap.js';

// Binomial(20, 0.5): P(X <= 5) = 0.0207, P(X <= 6) = 0.0577, P(X <= 13) = 0.9423, P(X <= 14) = 0.9793.
const halfOnes = (perFrame: number) =>
  Array.from({ length: 20 }, (_, f) => Array.from({ length: perFrame }, () => ({ value: f < 10 ? 1 : 0, cluster: f }))).flat();

describe('clusterBootstrap', () => {
  it('one detection per frame: the interval is the binomial quantiles [6/20, 14/20]', () => {
    const r = clusterBootstrap(halfOnes(1), { resamples: 20000, seed: 3 });
    expect(r.mean).toBe(0.5);
    expect(r.n).toBe(20);
    expect(r.ci95).toEqual([0.3, 0.7]);
  });

  it('resamples by frame: three identical detections per frame give the same interval, not a narrower one', () => {
    const r = clusterBootstrap(halfOnes(3), { resamples: 20000, seed: 3 });
    expect(r.n).toBe(60);
    expect(r.ci95).toEqual([0.3, 0.7]);
    // Treating the 60 detections as independent would claim Binomial(60, 0.5)/60: about [0.375, 0.625].
    const naive = clusterBootstrap(halfOnes(3).map((o, i) => ({ ...o, cluster: i })), { resamples: 20000, seed: 3 });
    expect(naive.ci95[0]).toBeGreaterThan(0.35);
    expect(naive.ci95[1]).toBeLessThan(0.65);
  });

  it('weights count a cluster by its weight and non-finite values are left out', () => {
    const r = clusterBootstrap([{ value: 1, cluster: 0, weight: 3 }, { value: 0, cluster: 1 }, { value: NaN, cluster: 2 }], { resamples: 100 });
    expect(r.mean).toBe(0.75);
    expect(r.n).toBe(2);
    expect(clusterBootstrap([]).n).toBe(0);
    expect(clusterBootstrap([]).ci95.every(Number.isNaN)).toBe(true);
  });

  it('repeats with the same seed', () => {
    expect(clusterBootstrap(halfOnes(2), { seed: 7 })).toEqual(clusterBootstrap(halfOnes(2), { seed: 7 }));
  });
});

describe('pairedDifference', () => {
  it('a constant shift is significant with a zero-width interval; no shift is not', () => {
    const pairs = Array.from({ length: 12 }, (_, i) => ({ a: i / 10 + 0.2, b: i / 10, cluster: i % 4 }));
    const d = pairedDifference(pairs);
    expect(d.mean).toBeCloseTo(0.2, 12);
    expect(d.ci95[0]).toBeCloseTo(0.2, 12);
    expect(d.ci95[1]).toBeCloseTo(0.2, 12);
    expect(d.significant).toBe(true);
    const noisy = pairedDifference(Array.from({ length: 20 }, (_, i) => ({ a: i % 2, b: (i + 1) % 2, cluster: i })));
    expect(noisy.ci95[0]).toBeLessThan(0);
    expect(noisy.ci95[1]).toBeGreaterThan(0);
    expect(noisy.significant).toBe(false);
  });
});
