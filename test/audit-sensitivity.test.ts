import { describe, expect, it } from 'vitest';
import { addUniformNoise, maxSensitivity, randomExplainSensitivity } from '../src/audit/sensitivity.js';
import { mulberry32 } from '../src/audit/rng.js';
import type { Explain } from '../src/audit/types.js';
import { toyImage } from './audit-helpers.js';

const S = 32;
const rgb = toyImage(S, S, [8, 8, 20, 20]);

/** A map that follows the pixels: mean red per 4x4 block, /255 (so noise moves it). */
const pixelExplain: Explain = async (img, w, h) => {
  const out = new Float32Array((w / 4) * (h / 4));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[Math.floor(y / 4) * (w / 4) + Math.floor(x / 4)]! += img[(y * w + x) * 3]! / 255 / 16;
  return out;
};

describe('maxSensitivity', () => {
  it('is 0 for an explainer that ignores the input', async () => {
    let calls = 0;
    const constant: Explain = async () => {
      calls++;
      return new Float32Array(64).fill(0.3);
    };
    expect(await maxSensitivity(rgb, S, S, constant, { samples: 5, radius: 0.1 })).toBe(0);
    expect(calls).toBe(6); // the unperturbed map, then one per sample
  });

  it('grows with the noise radius for a noise-sensitive explainer, and is 0 without noise', async () => {
    const at = (radius: number) => maxSensitivity(rgb, S, S, pixelExplain, { samples: 8, radius, seed: 3 });
    const [r0, r1, r2, r3] = await Promise.all([at(0), at(0.01), at(0.05), at(0.2)]);
    expect(r0).toBe(0);
    expect(r1).toBeGreaterThan(0);
    expect(r2).toBeGreaterThan(r1!);
    expect(r3).toBeGreaterThan(r2!);
  });

  it('repeats for the same seed', async () => {
    const a = await maxSensitivity(rgb, S, S, pixelExplain, { seed: 11, radius: 0.05 });
    const b = await maxSensitivity(rgb, S, S, pixelExplain, { seed: 11, radius: 0.05 });
    expect(a).toBe(b);
  });

  it('rejects bad settings with a UserError', async () => {
    await expect(maxSensitivity(rgb, S, S, pixelExplain, { samples: 0 })).rejects.toThrow(/samples/);
    await expect(maxSensitivity(rgb, S, S, pixelExplain, { radius: 2 })).rejects.toThrow(/radius/);
  });
});

describe('noise and the random baseline', () => {
  it('adds uniform noise within ±radius*255, clipped to 0..255', () => {
    const img = Uint8Array.of(0, 128, 255, 10, 250, 100);
    const noisy = addUniformNoise(img, 0.05, mulberry32(1));
    for (let i = 0; i < img.length; i++) expect(Math.abs(noisy[i]! - img[i]!)).toBeLessThanOrEqual(Math.ceil(0.05 * 255));
    // 255 + noise must not wrap to a small value
    expect(noisy[2]).toBeGreaterThan(240);
  });

  it('a map unrelated to the input scores about sqrt(1/2)', () => {
    const v = randomExplainSensitivity(20, 12, 8, 1);
    expect(v).toBeGreaterThan(0.6);
    expect(v).toBeLessThan(0.9);
  });
});
