// Temporal stability: mean frame-to-frame change of the map explaining one tracked object.
// Measures (both 0 for identical maps):
//   'l1'   = sum|a - b| / (sum a + sum b), in [0, 1]; 1 = the maps' mass moved to disjoint places.
//   'corr' = 1 - Pearson correlation, in [0, 2]; ignores the maps' overall scale.
// Regions: 'box' compares the map inside each frame's box of the object, resampled to a fixed grid, so the
// object's own motion (and the dashcam's) does not count as instability; 'frame' compares whole maps.
import { pearson } from './correlation.js';
import { checkMap } from './image.js';
import { mixSeed, randomMap } from './rng.js';
import type { Box } from '../types.js';
import {
  RANDOM,
  type AuditSettings,
  type MapGrid,
  type TemporalMeasure,
  type TemporalRegion,
  type TemporalResult,
} from './types.js';

export function mapChange(a: Float32Array, b: Float32Array, measure: TemporalMeasure = 'l1'): number {
  if (a.length !== b.length) throw new Error(`audit: maps of different sizes (${a.length} vs ${b.length} values)`);
  if (measure === 'l1') {
    let diff = 0;
    let mass = 0;
    for (let i = 0; i < a.length; i++) {
      diff += Math.abs(a[i]! - b[i]!);
      mass += Math.abs(a[i]!) + Math.abs(b[i]!);
    }
    return mass > 0 ? diff / mass : 0;
  }
  const r = pearson(a, b);
  // A flat map has no correlation: count it as unchanged only if the other is the same flat map.
  if (Number.isNaN(r)) return a.every((v) => v === a[0]) && b.every((v) => v === a[0]) ? 0 : 1;
  return 1 - r;
}

/**
 * The map sampled bilinearly on a grid x grid lattice inside the box (pixel coords of a frameWidth x
 * frameHeight frame; the map covers the whole frame, cell centres at (i + 0.5) * frame / map).
 */
export function sampleInBox(map: MapGrid, box: Box, frameWidth: number, frameHeight: number, grid = 16): Float32Array {
  checkMap(map);
  const out = new Float32Array(grid * grid);
  const at = (cx: number, cy: number): number => map.data[cy * map.width + cx]!;
  for (let j = 0; j < grid; j++) {
    const py = box[1] + ((j + 0.5) / grid) * (box[3] - box[1]);
    const v = clamp((py * map.height) / frameHeight - 0.5, 0, map.height - 1);
    const y0 = Math.floor(v);
    const y1 = Math.min(map.height - 1, y0 + 1);
    const fy = v - y0;
    for (let i = 0; i < grid; i++) {
      const px = box[0] + ((i + 0.5) / grid) * (box[2] - box[0]);
      const u = clamp((px * map.width) / frameWidth - 0.5, 0, map.width - 1);
      const x0 = Math.floor(u);
      const x1 = Math.min(map.width - 1, x0 + 1);
      const fx = u - x0;
      const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
      const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
      out[j * grid + i] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export interface TemporalOptions {
  measure: TemporalMeasure;
  region: TemporalRegion;
  /** Seeds of the random-map baseline (its change is averaged over them). */
  randomSeeds: number[];
  /** Lattice side for region 'box'. */
  grid: number;
}

/** One object on one frame, as seen by one method. */
export interface TrackPoint {
  frame: number;
  label: string;
  classId: number;
  box: Box;
  /** The map explaining this object: its detection's map, or its class's map. */
  map: MapGrid;
}

interface Running {
  label: string;
  classId: number;
  /** Last frame's compared values: one array for a method, one per seed for the random baseline. */
  last?: { frame: number; views: Float32Array[]; size: [number, number] };
  sum: number;
  transitions: number;
}

/**
 * Accumulates temporal stability while the video streams by: keeps only each track's last map per method.
 * Feed it the maps of every tracked object on every sampled frame (track ids from IouTracker, whose tracks
 * are runs of consecutive sampled frames); the random baseline is added per track automatically.
 */
export class TemporalCollector {
  private readonly o: TemporalOptions;
  private readonly runs = new Map<string, Running>();

  constructor(
    private readonly frameWidth: number,
    private readonly frameHeight: number,
    options: Partial<TemporalOptions> = {},
  ) {
    this.o = { measure: 'l1', region: 'box', randomSeeds: [1, 2, 3], grid: 16, ...options };
    if (this.o.randomSeeds.length === 0) throw new Error('audit: temporal baseline needs at least one seed');
  }

  /** A collector using the audit settings' measure, region and random seeds. */
  static fromSettings(frameWidth: number, frameHeight: number, s: AuditSettings): TemporalCollector {
    return new TemporalCollector(frameWidth, frameHeight, { measure: s.temporalMeasure, region: s.temporalRegion, randomSeeds: s.randomSeeds });
  }

  add(method: string, trackId: number, point: TrackPoint): void {
    if (method === RANDOM) throw new Error(`audit: '${RANDOM}' is reserved for the baseline`);
    checkMap(point.map);
    this.step(method, trackId, point, [this.view(point.map, point.box)]);
    // The random baseline: one point per (track, frame), whichever method reports it first. Its maps are
    // regenerated from (seed, track, frame), independent from frame to frame.
    if (this.runs.get(key(RANDOM, trackId))?.last?.frame !== point.frame) {
      const { width, height } = point.map;
      const views = this.o.randomSeeds.map((s) => this.view(randomMap(width, height, mixSeed(s, trackId, point.frame)), point.box));
      this.step(RANDOM, trackId, point, views);
    }
  }

  results(): TemporalResult[] {
    const out: TemporalResult[] = [];
    for (const [k, r] of this.runs) {
      if (r.transitions === 0) continue;
      const sep = k.lastIndexOf('\u0000');
      out.push({
        method: k.slice(0, sep),
        trackId: Number(k.slice(sep + 1)),
        label: r.label,
        classId: r.classId,
        transitions: r.transitions,
        meanChange: r.sum / r.transitions,
      });
    }
    return out;
  }

  private view(map: MapGrid, box: Box): Float32Array {
    return this.o.region === 'box' ? sampleInBox(map, box, this.frameWidth, this.frameHeight, this.o.grid) : map.data;
  }

  private step(method: string, trackId: number, p: TrackPoint, views: Float32Array[]): void {
    const k = key(method, trackId);
    const r = this.runs.get(k) ?? { label: p.label, classId: p.classId, sum: 0, transitions: 0 };
    const size: [number, number] = [p.map.width, p.map.height];
    if (r.last && r.last.frame !== p.frame) {
      if (this.o.region === 'frame' && (r.last.size[0] !== size[0] || r.last.size[1] !== size[1])) {
        throw new Error(`audit: ${method} map size changed between frames`);
      }
      const prev = r.last.views;
      let s = 0;
      views.forEach((v, i) => (s += mapChange(prev[i]!, v, this.o.measure)));
      r.sum += s / views.length;
      r.transitions++;
    }
    r.last = { frame: p.frame, views, size };
    this.runs.set(k, r);
  }
}

function key(method: string, trackId: number): string {
  return `${method}\u0000${trackId}`;
}

/** Mean change along one track's maps (the non-streaming form of TemporalCollector, for one method). */
export function trackStability(
  points: readonly TrackPoint[],
  frameWidth: number,
  frameHeight: number,
  options: Partial<TemporalOptions> = {},
): { meanChange: number; transitions: number } {
  const c = new TemporalCollector(frameWidth, frameHeight, options);
  points.forEach((p) => c.add('map', 0, p));
  const r = c.results().find((x) => x.method === 'map');
  return r ? { meanChange: r.meanChange, transitions: r.transitions } : { meanChange: NaN, transitions: 0 };
}
