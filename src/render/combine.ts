// Merge several saliency maps into one, at map resolution (cheap: ~16k pixels per 128x128 map).

import type { SaliencyMap } from '../types.js';

export interface Grid {
  width: number;
  height: number;
  data: Float32Array;
}

/** Throw on a map whose buffer does not match its declared size (a bug upstream, not user input). */
export function checkMap(m: SaliencyMap): void {
  if (!(m.width >= 1 && m.height >= 1) || !Number.isInteger(m.width) || !Number.isInteger(m.height)) {
    throw new Error(`saliency map "${m.label}" has invalid size ${m.width}x${m.height}`);
  }
  if (m.data.length !== m.width * m.height) {
    throw new Error(`saliency map "${m.label}" has ${m.data.length} values, expected ${m.width}x${m.height}`);
  }
}

/**
 * Per-pixel maximum of the maps. Maps of different sizes (they all cover the whole frame) are
 * bilinearly resampled onto the largest width and height among them first. Null when there are no maps.
 */
export function combineMax(maps: readonly SaliencyMap[]): Grid | null {
  if (maps.length === 0) return null;
  for (const m of maps) checkMap(m);
  const width = Math.max(...maps.map((m) => m.width));
  const height = Math.max(...maps.map((m) => m.height));
  const out = new Float32Array(width * height);
  for (const m of maps) {
    const src = m.width === width && m.height === height ? m.data : resampleBilinear(m, width, height);
    for (let i = 0; i < out.length; i++) {
      const v = src[i]!;
      // `v > out[i]` skips NaN, so a broken value never wins the max.
      if (v > out[i]!) out[i] = v;
    }
  }
  return { width, height, data: out };
}

/** Bilinear resample with pixel centres aligned, the same geometry sharp uses for a 'fill' resize. */
export function resampleBilinear(m: SaliencyMap, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = m.width / width;
  const sy = m.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(m.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(m.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(m.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(m.width - 1, x0 + 1);
      const wx = fx - x0;
      const a = m.data[y0 * m.width + x0]!;
      const b = m.data[y0 * m.width + x1]!;
      const c = m.data[y1 * m.width + x0]!;
      const d = m.data[y1 * m.width + x1]!;
      out[y * width + x] = (a * (1 - wx) + b * wx) * (1 - wy) + (c * (1 - wx) + d * wx) * wy;
    }
  }
  return out;
}
