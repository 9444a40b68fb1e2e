// ROAD's noisy linear imputation against its definition on small images: every removed pixel equals the
// weighted mean of its in-image neighbours (1/6 direct, 1/12 diagonal), kept pixels are untouched, the noise
// has the asked spread, and a linear ramp is reproduced exactly (a harmonic function solves the system).
import { describe, expect, it } from 'vitest';
import { roadImpute } from '../src/audit/road.js';
import { mulberry32 } from '../src/audit/rng.js';

const W = 9;
const H = 7;
const NB: [number, number, number][] = [[0, 1, 1 / 6], [0, -1, 1 / 6], [1, 0, 1 / 6], [-1, 0, 1 / 6], [1, 1, 1 / 12], [1, -1, 1 / 12], [-1, 1, 1 / 12], [-1, -1, 1 / 12]];

function image(f: (x: number, y: number, c: number) => number): Float32Array {
  const out = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) out[(y * W + x) * 3 + c] = f(x, y, c);
  return out;
}

describe('roadImpute', () => {
  const rand = mulberry32(5);
  const img = image(() => Math.floor(rand() * 256));
  // A removed block touching the border, and a single removed pixel.
  const known = new Uint8Array(W * H).fill(1);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) known[y * W + x] = 0;
  known[5 * W + 6] = 0;

  it('without noise, each removed pixel is the weighted mean of its neighbours inside the image; kept pixels stay', () => {
    const out = roadImpute(img, known, W, H, { noise: 0, tolerance: 1e-9, maxIterations: 1000 });
    let checked = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        for (let c = 0; c < 3; c++) {
          if (known[p]) {
            expect(out[p * 3 + c]).toBe(img[p * 3 + c]);
            continue;
          }
          let sum = 0;
          let wsum = 0;
          for (const [dx, dy, w] of NB) {
            const nx = x + dx;
            const ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= W || ny >= H) continue;
            sum += w * out[(ny * W + nx) * 3 + c]!;
            wsum += w;
          }
          expect(out[p * 3 + c]).toBeCloseTo(sum / wsum, 3);
          checked++;
        }
      }
    }
    expect(checked).toBe(17 * 3);
    // non-degenerate: the imputed values are not the original ones
    expect(Math.abs(out[0]! - img[0]!) + Math.abs(out[3]! - img[3]!)).toBeGreaterThan(1);
  });

  it('reproduces a linear ramp exactly inside a hole', () => {
    const ramp = image((x, y, c) => 10 * x + 5 * y + c);
    const hole = new Uint8Array(W * H).fill(1);
    for (let y = 2; y < 5; y++) for (let x = 2; x < 7; x++) hole[y * W + x] = 0;
    const out = roadImpute(ramp, hole, W, H, { noise: 0, tolerance: 1e-9, maxIterations: 1000 });
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(ramp[i]!, 3);
  });

  it('adds seeded Gaussian noise of the asked spread to the removed pixels only', () => {
    const flat = image(() => 100);
    const hole = new Uint8Array(W * H).fill(1);
    for (let p = 0; p < W * H; p++) if (p % 2) hole[p] = 0;
    const out = roadImpute(flat, hole, W, H, { noise: 3, seed: 9 });
    const d: number[] = [];
    for (let p = 0; p < W * H; p++) for (let c = 0; c < 3; c++) (hole[p] ? expect(out[p * 3 + c]).toBe(100) : d.push(out[p * 3 + c]! - 100));
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    expect(Math.abs(mean)).toBeLessThan(1);
    expect(sd).toBeGreaterThan(2.2);
    expect(sd).toBeLessThan(3.8);
    expect(roadImpute(flat, hole, W, H, { noise: 3, seed: 9 })).toEqual(out);
  });

  it('with nothing kept, fills the mean colour', () => {
    const out = roadImpute(image((x) => x * 10), new Uint8Array(W * H), W, H, { noise: 0 });
    expect(out.every((v) => Math.abs(v - 40) < 1e-4)).toBe(true);
  });
});
