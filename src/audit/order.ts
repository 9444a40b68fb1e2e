// Pixel ordering by saliency for deletion/insertion.
// Sorting cells at map resolution and expanding each cell to its pixels is O(pixels + cells log cells):
// sorting ~1M pixels per map instead would dominate the audit for no gain (pixels in a cell tie anyway).
import { checkMap } from './image.js';
import type { MapGrid } from './types.js';

/**
 * Map cell of every pixel column / row: pixel x belongs to cell floor(x * mapW / imageW), i.e. the map covers
 * the whole image with equal-size cells (nearest-neighbour upsampling).
 */
export function cellIndexAxis(imageSize: number, mapSize: number): Uint32Array {
  const out = new Uint32Array(imageSize);
  for (let i = 0; i < imageSize; i++) out[i] = Math.min(mapSize - 1, Math.floor((i * mapSize) / imageSize));
  return out;
}

/** Map cells, most salient first; ties (and NaN, ranked last) keep index order so the result repeats. */
export function cellOrder(map: MapGrid): Uint32Array {
  const n = map.width * map.height;
  const idx = Array.from({ length: n }, (_, i) => i);
  const v = (i: number): number => {
    const x = map.data[i]!;
    return Number.isNaN(x) ? -Infinity : x;
  };
  idx.sort((a, b) => v(b) - v(a) || a - b);
  return Uint32Array.from(idx);
}

/**
 * Pixel indices (y * width + x) of the image, most salient first: cells by descending value, pixels inside a
 * cell in raster order. Taking the first k entries gives exactly k pixels at any step.
 */
export function saliencyPixelOrder(map: MapGrid, width: number, height: number): Uint32Array {
  checkMap(map);
  const cx = cellIndexAxis(width, map.width);
  const cy = cellIndexAxis(height, map.height);
  const cells = map.width * map.height;

  const count = new Uint32Array(cells);
  for (let y = 0; y < height; y++) {
    const row = cy[y]! * map.width;
    for (let x = 0; x < width; x++) count[row + cx[x]!]!++;
  }
  // Start offset of each cell's pixels in the output, following the cell order.
  const offset = new Uint32Array(cells);
  let at = 0;
  for (const c of cellOrder(map)) {
    offset[c] = at;
    at += count[c]!;
  }
  const out = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = cy[y]! * map.width;
    for (let x = 0; x < width; x++) out[offset[row + cx[x]!]!++] = y * width + x;
  }
  return out;
}
