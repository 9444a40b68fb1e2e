import type { Box, SaliencyMap } from '../types.js';

export interface MapStats {
  energyInBoxes: number;
  areaInBoxes: number;
  peak: [number, number];
  pointingHit: boolean;
}

/**
 * Energy-based pointing game on a low-resolution map that covers the whole frame.
 * Each map cell is treated as a constant patch; a box takes the fraction of each cell it overlaps, so small
 * boxes (a distant car covers a few cells) are scored exactly rather than by cell centres.
 */
export function mapStats(map: SaliencyMap, boxes: Box[], frameWidth: number, frameHeight: number): MapStats {
  const { width: mw, height: mh, data } = map;
  const sx = mw / frameWidth;
  const sy = mh / frameHeight;
  const coverage = boxCoverage(boxes.map((b) => [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy] as Box), mw, mh);

  let total = 0;
  let inside = 0;
  let areaCells = 0;
  let peakIdx = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Math.max(0, data[i]!);
    total += v;
    inside += v * coverage[i]!;
    areaCells += coverage[i]!;
    if (data[i]! > data[peakIdx]!) peakIdx = i;
  }
  const px = ((peakIdx % mw) + 0.5) / sx;
  const py = (Math.floor(peakIdx / mw) + 0.5) / sy;
  return {
    energyInBoxes: total > 0 ? inside / total : 0,
    areaInBoxes: areaCells / (mw * mh),
    peak: [Math.round(px), Math.round(py)],
    pointingHit: boxes.some((b) => px >= b[0] && px <= b[2] && py >= b[1] && py <= b[3]),
  };
}

/** Fraction (0..1) of each cell of a w×h grid covered by the union of boxes given in grid units. */
export function boxCoverage(boxes: Box[], w: number, h: number): Float32Array {
  const cov = new Float32Array(w * h);
  for (const [x1, y1, x2, y2] of boxes) {
    const cx1 = Math.max(0, Math.floor(x1));
    const cy1 = Math.max(0, Math.floor(y1));
    const cx2 = Math.min(w - 1, Math.ceil(x2) - 1);
    const cy2 = Math.min(h - 1, Math.ceil(y2) - 1);
    for (let y = cy1; y <= cy2; y++) {
      const fy = Math.min(y + 1, y2) - Math.max(y, y1);
      if (fy <= 0) continue;
      for (let x = cx1; x <= cx2; x++) {
        const fx = Math.min(x + 1, x2) - Math.max(x, x1);
        if (fx <= 0) continue;
        // Overlapping boxes: take the larger coverage, a cheap stand-in for the exact union.
        const i = y * w + x;
        cov[i] = Math.max(cov[i]!, fx * fy);
      }
    }
  }
  return cov;
}
