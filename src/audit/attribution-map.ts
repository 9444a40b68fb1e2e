// Turns a pixel attribution (e.g. Integrated Gradients) into a SaliencyMap at map resolution, so it is scored
// with exactly the same metrics as the CAMs. abs: IG's sign flips pixel to pixel on edges and both signs
// mean "this pixel matters"; pooling + light smoothing: per-pixel IG is speckled, CAM cells are not.
import { cellIndexAxis } from './order.js';
import type { SaliencyMap } from '../types.js';

export interface AttributionMapOptions {
  /** Map size; default: the image divided by 32 (the detector's coarsest stride), at least 1. */
  width?: number;
  height?: number;
  /** Gaussian sigma in map cells applied after pooling (default 1; 0 = none). */
  smooth?: number;
  label?: string;
  classId?: number;
}

export function attributionToMap(
  attribution: Float32Array,
  width: number,
  height: number,
  options: AttributionMapOptions = {},
): SaliencyMap {
  if (attribution.length !== width * height) {
    throw new Error(`audit: attribution has ${attribution.length} values, expected ${width}x${height}`);
  }
  const mw = options.width ?? Math.max(1, Math.round(width / 32));
  const mh = options.height ?? Math.max(1, Math.round(height / 32));
  const smooth = options.smooth ?? 1;

  // Mean |attribution| per map cell (the same pixel-to-cell rule as the deletion ordering).
  const cx = cellIndexAxis(width, mw);
  const cy = cellIndexAxis(height, mh);
  const sum = new Float64Array(mw * mh);
  const count = new Float64Array(mw * mh);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = cy[y]! * mw + cx[x]!;
      sum[c]! += Math.abs(attribution[y * width + x]!);
      count[c]!++;
    }
  }
  let data: Float32Array = Float32Array.from(sum, (s, i) => (count[i]! > 0 ? s / count[i]! : 0));
  if (smooth > 0) data = blurGrid(data, mw, mh, smooth);

  let max = 0;
  for (const v of data) max = Math.max(max, v);
  if (max > 0) for (let i = 0; i < data.length; i++) data[i] = data[i]! / max;
  return { label: options.label ?? '', classId: options.classId ?? -1, width: mw, height: mh, data };
}

/** Separable Gaussian on a small grid, edges clamped. */
function blurGrid(src: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const pass = (input: Float32Array, dx: number, dy: number): Float32Array => {
    const out = new Float32Array(input.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const xx = Math.min(w - 1, Math.max(0, x + i * dx));
          const yy = Math.min(h - 1, Math.max(0, y + i * dy));
          s += k[i + r]! * input[yy * w + xx]!;
        }
        out[y * w + x] = s / ks;
      }
    }
    return out;
  };
  return pass(pass(src, 1, 0), 0, 1);
}
