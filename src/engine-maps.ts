// What the engine makes of a method's raw maps: normalised SaliencyMaps (one per target), and the frame's JSON
// record. Kept apart from engine.ts, which owns the forward pass and the order of the work.
import type { DetectedObject } from './model/detector.js';
import type { RegionFound } from './saliency/failure-targets.js';
import { whyStats } from './saliency/failure-targets.js';
import type { CamContext, CamMethod } from './saliency/method.js';
import { minMaxPerMap } from './saliency/normalise.js';
import { mapStats } from './saliency/stats.js';
import type { CamTarget } from './saliency/targets.js';
import type { Detection, ExplainOptions, ExplainRecord, Frame, SaliencyMap } from './types.js';

/** A method's maps for `targets` on the frame's context: computed, downloaded once, normalised per map. */
export async function camMaps(ctx: CamContext, m: CamMethod, layers: string[], targets: CamTarget[]): Promise<SaliencyMap[]> {
  if (!targets.length) return [];
  const raw = await m.compute(ctx, layers, targets);
  const [k, h, w] = raw.shape;
  let data: Float32Array;
  try {
    data = (await raw.data()) as Float32Array;
  } finally {
    raw.dispose();
  }
  if (k !== targets.length) throw new Error(`method ${m.name} returned ${k} maps for ${targets.length} targets`);
  const normed = minMaxPerMap(data, k, h * w);
  return targets.map((t, i) => ({
    label: t.label,
    classId: t.classId,
    ...(t.detectionIndex !== undefined ? { detectionIndex: t.detectionIndex } : {}),
    ...(t.region ? { region: t.region } : {}),
    ...(t.versus ? { versus: t.versus } : {}),
    width: w,
    height: h,
    data: normed[i]!,
    raw: data.slice(i * h * w, (i + 1) * h * w),
  }));
}

export interface RecordParts {
  frame: Frame;
  model: string;
  backend: string;
  o: ExplainOptions;
  found: readonly DetectedObject[];
  detections: Detection[];
  /** The method's maps, then the region maps (if any). */
  maps: SaliencyMap[];
  regions?: RegionFound;
  /** performance.now() at the start, after detection, and at the end. */
  times: [number, number, number];
}

/** The per-frame JSON record of one method's explanation (`explain --json`, a line of `export --sidecar`). */
export function frameRecord(p: RecordParts): ExplainRecord {
  const { frame, o, found, maps, regions } = p;
  const [t0, t1, t2] = p.times;
  return {
    source: '',
    width: frame.width,
    height: frame.height,
    model: p.model,
    backend: p.backend,
    method: o.method,
    // A method's own parameters go on record beside it (only a method that has some).
    ...(o.method in o.methodParams ? { methodParams: (o.methodParams as Record<string, Record<string, string | number | boolean>>)[o.method] } : {}),
    detections: p.detections,
    saliency: maps
      .filter((m) => !m.region)
      .map((m) => ({
        label: m.label,
        ...(m.detectionIndex !== undefined ? { detectionIndex: m.detectionIndex } : {}),
        ...(m.versus ? { versus: m.versus } : {}),
        ...roundStats(mapStats(m, boxesFor(m, found), frame.width, frame.height)),
      })),
    ...(regions ? { why: maps.filter((m) => m.region).map((m, i) => whyStats(m, regions.best[i]!, frame.width, frame.height)) } : {}),
    timing: { detectMs: round(t1 - t0, 1), saliencyMs: round(t2 - t1, 1), totalMs: round(t2 - t0, 1) },
  };
}

function boxesFor(map: SaliencyMap, found: readonly DetectedObject[]) {
  if (map.detectionIndex !== undefined) return [found[map.detectionIndex]!.box];
  return found.filter((d) => d.classId === map.classId).map((d) => d.box);
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function roundStats(s: ReturnType<typeof mapStats>) {
  return { ...s, energyInBoxes: round(s.energyInBoxes, 4), areaInBoxes: round(s.areaInBoxes, 4) };
}
