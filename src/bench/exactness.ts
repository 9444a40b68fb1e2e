// Fast vs full gradients, map by map: the detector's gradient shortcut (model/centernet-adjoint.ts) must reproduce the backward pass.
// Used by a test on a few real frames and by scripts/exactness.mjs on every still and every frame of a clip.
import { basename } from 'node:path';
import { mapChange } from '../audit/temporal.js';
import { readImageFrame } from '../cli/image-input.js';
import { Engine, type EngineOptions } from '../engine.js';
import type { CamMethodName, ExplainedFrame, Frame } from '../types.js';
import { openDecoder } from '../video/index.js';

export interface ExactnessRow {
  frame: string;
  method: CamMethodName;
  perDetection: boolean;
  label: string;
  detectionIndex?: number;
  pearson: number;
  maxAbsDiff: number;
  sameHit: boolean;
}

export interface ExactnessSummary {
  maps: number;
  minPearson: number;
  maxAbsDiff: number;
  hitMismatches: number;
}

/** Pearson correlation of two maps, as the audit's temporal measure computes it (a flat map: 1 only against itself). */
export function pearson(a: Float32Array, b: Float32Array): number {
  return 1 - mapChange(a, b, 'corr');
}

/** Explain `frame` with both engines and compare every map. */
export async function compareFrame(
  fast: Engine,
  full: Engine,
  frame: Frame,
  name: string,
  methods: CamMethodName[],
  modes: boolean[] = [false, true],
): Promise<ExactnessRow[]> {
  const rows: ExactnessRow[] = [];
  for (const method of methods) {
    for (const perDetection of modes) {
      const a: ExplainedFrame = await fast.explain(frame, { method, perDetection });
      const b: ExplainedFrame = await full.explain(frame, { method, perDetection });
      if (a.maps.length !== b.maps.length) throw new Error(`${name} ${method}: ${a.maps.length} fast maps vs ${b.maps.length} full`);
      a.maps.forEach((m, i) => {
        const o = b.maps[i]!;
        let maxAbsDiff = 0;
        for (let j = 0; j < m.data.length; j++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(m.data[j]! - o.data[j]!));
        rows.push({
          frame: name,
          method,
          perDetection,
          label: m.label,
          ...(m.detectionIndex !== undefined ? { detectionIndex: m.detectionIndex } : {}),
          pearson: pearson(m.data, o.data),
          maxAbsDiff,
          sameHit: a.record.saliency[i]!.pointingHit === b.record.saliency[i]!.pointingHit,
        });
      });
    }
  }
  return rows;
}

export function summarise(rows: ExactnessRow[]): ExactnessSummary {
  return {
    maps: rows.length,
    minPearson: Math.min(1, ...rows.map((r) => r.pearson)),
    maxAbsDiff: Math.max(0, ...rows.map((r) => r.maxAbsDiff)),
    hitMismatches: rows.filter((r) => !r.sameHit).length,
  };
}

export interface SweepOptions {
  /** Still images (paths) and a clip whose every frame is compared. */
  stills: string[];
  clip: string;
  /** At most this many frames of the clip (default: all), after skipping `skipFrames`. */
  maxFrames?: number;
  skipFrames?: number;
  methods: CamMethodName[];
  engine?: Omit<EngineOptions, 'gradients'>;
  log?: (line: string) => void;
}

/** Every map of every still and clip frame, fast vs full: the sweep behind the README's exactness figures. */
export async function sweepExactness(o: SweepOptions): Promise<{ summary: Record<string, ExactnessSummary>; rows: ExactnessRow[] }> {
  const fast = await Engine.create({ backend: 'wasm', ...o.engine, gradients: 'fast' });
  const full = await Engine.create({ backend: 'wasm', ...o.engine, gradients: 'full' });
  const rows: ExactnessRow[] = [];
  try {
    for (const still of o.stills) {
      rows.push(...(await compareFrame(fast, full, await readImageFrame(still), basename(still), o.methods)));
      o.log?.(`${basename(still)}: ${JSON.stringify(summarise(rows.filter((r) => r.frame === basename(still))))}`);
    }
    const d = await openDecoder(o.clip);
    let i = 0;
    let seen = 0;
    for await (const f of d) {
      if (seen++ < (o.skipFrames ?? 0)) continue;
      i = seen - 1;
      const name = `${basename(o.clip)}#${i}`;
      rows.push(...(await compareFrame(fast, full, f, name, o.methods)));
      o.log?.(`${name}: ${JSON.stringify(summarise(rows.filter((r) => r.frame === name)))}`);
      if (seen - (o.skipFrames ?? 0) >= (o.maxFrames ?? Infinity)) break;
    }
    await d.close();
  } finally {
    fast.dispose();
    full.dispose();
  }
  const summary: Record<string, ExactnessSummary> = { all: summarise(rows) };
  for (const m of o.methods) {
    for (const per of [false, true]) summary[`${m}/${per ? 'detection' : 'class'}`] = summarise(rows.filter((r) => r.method === m && r.perDetection === per));
  }
  return { summary, rows };
}
