// Targets that explain a detector's failures: region targets ("why not here": a class's best score cell in a box
// where nothing was reported) and contrastive targets ("why truck rather than car"). The engine builds its
// targets here; the adapters say where cells are (Detector.regionBest, Detector.withClass).
import type { Tensor } from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import type { DetectedObject, Detector, RegionBest } from '../model/detector.js';
import type { Box, ExplainOptions, SaliencyMap, WhyStats } from '../types.js';
import type { CamMethod } from './method.js';
import { hirescam } from './methods/hirescam.js';
import { mapStats } from './stats.js';
import { classTargets, contrastTargets, detectionTargets, regionTarget, type CamTarget } from './targets.js';

/**
 * Region maps are element-wise (HiResCAM, ODAM's form), whatever the method of the detections' maps. A
 * channel-pooled CAM (XGrad-CAM, Grad-CAM, Grad-CAM++, XPolyCAM) paints every place the class's channels fire,
 * which for a missed object is mostly the objects that were found: on test1.jpg those four put the car map's
 * peak outside all three missed far cars' boxes (at Relu_1, mul and Relu), HiResCAM inside all three.
 */
export const REGION_METHOD: CamMethod = hirescam;

/** The region and contrastive options against the model (labels it knows, capabilities it has). */
export function checkFailureOptions(o: Pick<ExplainOptions, 'why' | 'versus' | 'perDetection'>, d: Detector): void {
  const known = (flag: string, label: string) => {
    if (!d.classNames.includes(label)) throw new UserError(`${flag}: unknown class "${label}" for model ${d.name} (e.g. ${d.classNames.slice(0, 8).join(', ')}, …)`);
  };
  for (const r of o.why) known('--why', r.label);
  if (o.why.length && !d.regionBest) throw new UserError(`--why needs a detector with score cells over the image; model ${d.name} has none`);
  if (o.versus !== null) {
    known('--versus', o.versus);
    if (!o.perDetection) throw new UserError('--versus explains detections one by one: add --per-detection');
    if (!d.withClass) throw new UserError(`--versus needs the adapter of model ${d.name} to locate another class's score (withClass)`);
  }
}

/** The frame's class, per-detection or contrastive targets, as the options ask. */
export function detectionTargetsFor(found: readonly DetectedObject[], o: Pick<ExplainOptions, 'versus' | 'perDetection'>, d: Detector): CamTarget[] {
  if (!o.perDetection) return classTargets(found);
  if (o.versus === null || !d.withClass) return detectionTargets(found);
  return contrastTargets(found, { label: o.versus, classId: d.classNames.indexOf(o.versus) }, (idx, c) => d.withClass!(idx, c));
}

export interface RegionFound {
  targets: CamTarget[];
  best: RegionBest[];
}

/** Each region's best cell of its class (from the decode outputs, before any threshold) as a target. */
export async function regionTargetsFor(d: Detector, decodeOutputs: Tensor[], o: Pick<ExplainOptions, 'why'>, width: number, height: number): Promise<RegionFound> {
  const best: RegionBest[] = [];
  const targets: CamTarget[] = [];
  for (const r of o.why) {
    const classId = d.classNames.indexOf(r.label);
    const box = clampBox(r.box, width, height);
    const b = await d.regionBest!(decodeOutputs, box, classId, width, height);
    best.push(b);
    targets.push(regionTarget(r.label, classId, box, b.scoreIndex));
  }
  return { targets, best };
}

/** A region map's line of the record. */
export function whyStats(map: SaliencyMap, best: RegionBest, width: number, height: number): WhyStats {
  const box = map.region!;
  const s = mapStats(map, [box], width, height);
  return {
    label: map.label,
    box,
    bestScore: round(best.score, 4),
    cells: best.cells,
    method: REGION_METHOD.name,
    energyInBox: round(s.energyInBoxes, 4),
    areaInBox: round(s.areaInBoxes, 4),
    peak: s.peak,
    pointingHit: s.pointingHit,
  };
}

/** A box asked for may reach past the frame (a region kept while the source changes size): cut it to the frame. */
function clampBox([x1, y1, x2, y2]: Box | readonly [number, number, number, number], w: number, h: number): Box {
  const c = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const box: Box = [c(x1, w), c(y1, h), c(x2, w), c(y2, h)];
  if (!(box[2] > box[0] && box[3] > box[1])) throw new UserError(`--why box ${[x1, y1, x2, y2].join(',')} lies outside the ${w}x${h} frame`);
  return box;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
