// Region targets ("why not here"): which of a detector's score cells a source-pixel box covers, and the best of
// them for one class. Adapters describe their grids (where each cell's centre sits in the source frame); the
// search is shared.
import type { Box } from '../types.js';
import type { RegionBest } from './detector.js';

/** A score grid: cell (x, y) is centred at ((x + offset)·stepX + originX, (y + offset)·stepY + originY) in source pixels. */
export interface ScoreGrid {
  width: number;
  height: number;
  stepX: number;
  stepY: number;
  offset: number;
  originX?: number;
  originY?: number;
}

export interface CellRange {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** Cells whose centres fall in the box (0 when the nearest cell stands in). */
  count: number;
}

/** The cells of `g` whose centres fall in `box`; when none does, the one cell nearest the box's centre. */
export function cellsIn(g: ScoreGrid, box: Box): CellRange {
  const axis = (lo: number, hi: number, step: number, origin: number, n: number): [number, number, boolean] => {
    const from = Math.max(0, Math.ceil((lo - origin) / step - g.offset));
    const to = Math.min(n - 1, Math.floor((hi - origin) / step - g.offset));
    if (from <= to) return [from, to, true];
    const near = Math.min(n - 1, Math.max(0, Math.round(((lo + hi) / 2 - origin) / step - g.offset)));
    return [near, near, false];
  };
  const [x0, x1, okX] = axis(box[0], box[2], g.stepX, g.originX ?? 0, g.width);
  const [y0, y1, okY] = axis(box[1], box[3], g.stepY, g.originY ?? 0, g.height);
  if (okX && okY) return { x0, x1, y0, y1, count: (x1 - x0 + 1) * (y1 - y0 + 1) };
  // Too small for any centre on one axis: the nearest cell to the centre on both.
  const cx = Math.min(g.width - 1, Math.max(0, Math.round(((box[0] + box[2]) / 2 - (g.originX ?? 0)) / g.stepX - g.offset)));
  const cy = Math.min(g.height - 1, Math.max(0, Math.round(((box[1] + box[3]) / 2 - (g.originY ?? 0)) / g.stepY - g.offset)));
  return { x0: cx, x1: cx, y0: cy, y1: cy, count: 0 };
}

/**
 * The best score in a cell range of one grid: `at(x, y)` reads a cell's score, `index(x, y)` makes its score
 * index. Returns the best of several grids (levels) when given more than one.
 */
export function bestOf(candidates: { range: CellRange; at: (x: number, y: number) => number; index: (x: number, y: number) => number[] }[]): RegionBest {
  // Levels with cells inside the box beat stand-in nearest cells.
  const inside = candidates.filter((c) => c.range.count > 0);
  const pool = inside.length ? inside : candidates.slice(0, 1);
  let best: RegionBest | undefined;
  let cells = 0;
  for (const { range: r, at, index } of pool) {
    cells += r.count;
    for (let y = r.y0; y <= r.y1; y++) {
      for (let x = r.x0; x <= r.x1; x++) {
        const s = at(x, y);
        if (!best || s > best.score) best = { score: s, scoreIndex: index(x, y), cells: 0 };
      }
    }
  }
  if (!best) throw new Error('region search over no cells');
  return { ...best, cells };
}
