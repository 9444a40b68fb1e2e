// Seeded randomness, so the random baseline and the noise of max-sensitivity repeat run to run.
import type { MapGrid } from './types.js';

/** mulberry32: tiny, fast, good enough for baselines and noise. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes several integers into one seed, so (seed, frame, detection) gives a distinct yet repeatable stream. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return h >>> 0;
}

/** A map of uniform random values in [0, 1): the baseline every metric is compared with. */
export function randomMap(width: number, height: number, seed: number): MapGrid {
  const next = mulberry32(seed);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = next();
  return { width, height, data };
}
