// One sampled frame of an audit: detect, explain with every method, measure (frame.ts), and offer the
// frame's worst maps to the gallery. runAudit (run.ts) loops over frames and hands the results to collectors.
import { camMethod } from '../saliency/methods/index.js';
import type { AuditableExplainer, CamMethodName, Detection, Frame, SaliencyMap, ScoredDetection } from '../types.js';
import { checkpoint, engineDetectBatch, igMap, matchDetection } from './engine-bridge.js';
import { measureFrame } from './frame.js';
import type { FrameCurveStats, PerturbedRuns } from './frame-curves.js';
import { prepareAuditImage, resolveBlurSigma } from './image.js';
import { IG, isCamMethod, isSlowMethod, type AuditMethod } from './methods.js';
import type { AuditRun } from './run-options.js';
import { detectionThumbnail } from './thumbnail.js';
import type { AuditSettings, DetectionAudit, GalleryItem } from './types.js';
import type { WorstKeeper } from './worst.js';

export interface FrameAudit {
  /** Every detection of the frame above the threshold (in the audited classes). */
  found: ScoredDetection[];
  audits: DetectionAudit[];
  /** method -> map per detection index. */
  maps: Map<string, (SaliencyMap | undefined)[]>;
  /** Time spent making the frame's CAM maps (every method once). */
  explainMs: number;
}

export interface FrameAuditContext {
  engine: AuditableExplainer;
  o: AuditRun;
  /** The metric settings o stands for (metricSettings). */
  s: AuditSettings;
  methods: readonly AuditMethod[];
  camMethods: readonly CamMethodName[];
  sensitivityFor: (m: AuditMethod) => boolean;
  rescoreThreshold: number;
  framesTotal: number | undefined;
  warn: (msg: string) => void;
  report: (frame: Frame | undefined, inFrame: number, doneInFrame: number) => void;
  state: { framesDone: number; warnedSlow: boolean };
  signal?: AbortSignal;
  stats?: FrameCurveStats;
  perturbed?: PerturbedRuns;
}

/**
 * The frame's detections in the audited classes: one forward pass, with their score indices (IG needs them);
 * explain decodes the same heads, so its per-detection maps are matched to these by class and box.
 */
export async function detectFrame(frame: Frame, c: Pick<FrameAuditContext, 'engine' | 'o' | 'signal'>): Promise<ScoredDetection[]> {
  const found = (await engineDetectBatch(c.engine, c.o.minScore, c.signal)([frame.rgb], frame.width, frame.height))[0] ?? [];
  return c.o.classes.length ? found.filter((d) => c.o.classes.includes(d.label)) : found;
}

/**
 * The frame's distinct maps (what its cost grows with, frame-curves.ts): per method one per class (one per
 * detection with `--maps detection`, one for all for a class-agnostic method, one per detection for IG), plus
 * the random maps.
 */
export function distinctMaps(found: readonly ScoredDetection[], o: Pick<AuditRun, 'methods' | 'maps' | 'methodParams' | 'randomMaps'>): number {
  if (found.length === 0) return 0;
  const classes = new Set(found.map((d) => d.classId)).size;
  const per = (m: AuditMethod): number =>
    !isCamMethod(m) ? found.length : camMethod(m, o.methodParams).classAgnostic ? 1 : o.maps === 'detection' ? found.length : classes;
  return o.methods.reduce((n, m) => n + per(m), o.randomMaps);
}

/** Explains and measures a frame's detections (from detectFrame) with every method. */
export async function auditFrame(frame: Frame, found: ScoredDetection[], c: FrameAuditContext): Promise<FrameAudit> {
  const { engine, o, s, signal } = c;
  const { width: W, height: H } = frame;
  const maps = new Map<string, (SaliencyMap | undefined)[]>();
  if (found.length === 0) return { found, audits: [], maps, explainMs: 0 };

  const msPerMap = new Map<string, (number | undefined)[]>();
  const explainStart = performance.now();
  const perDetection = o.maps === 'detection';
  const options = { perDetection, classes: o.classes, minScore: o.minScore, methodParams: o.methodParams };
  const pick = (list: SaliencyMap[], dets: Detection[]) =>
    found.map((d) => (perDetection ? list.find((map) => map.detectionIndex === matchDetection(dets, d)) : list.find((map) => map.classId === d.classId)));
  // The realtime methods in one call: one forward pass, backward passes shared (Engine.explainMethods). Their
  // msPerMap is each method's own time in that call (its maps, plus an even share of the forward pass) per map.
  // A slow method (PolyCAM: minutes) keeps a call of its own, timed and warned about alone.
  const shared = c.camMethods.filter((m) => !isSlowMethod(m, o.methodParams));
  if (shared.length) {
    await checkpoint(signal);
    const ex = await engine.explainMethods(frame, shared, options);
    for (const m of shared) {
      const list = ex.mapsByMethod[m] ?? [];
      maps.set(m, pick(list, ex.detections));
      msPerMap.set(m, found.map(() => (list.length ? ex.msByMethod[m]! / list.length : undefined)));
    }
  }
  for (const m of c.camMethods.filter((x) => !shared.includes(x))) {
    await checkpoint(signal);
    const t0 = performance.now();
    const ex = await engine.explain(frame, { ...options, method: m });
    const ms = performance.now() - t0;
    maps.set(m, pick(ex.maps, ex.detections));
    msPerMap.set(m, found.map(() => (ex.maps.length ? ms / ex.maps.length : undefined)));
    if (!c.state.warnedSlow) {
      c.state.warnedSlow = true;
      const left = c.framesTotal !== undefined ? c.framesTotal - c.state.framesDone - 1 : undefined;
      c.warn(`${m} took ${(ms / 1000).toFixed(0)} s on this frame${left ? `; roughly ${((left * ms) / 60000).toFixed(0)} min more for the other ${left} sampled frames` : ''}`);
    }
  }
  const explainMs = performance.now() - explainStart;
  if (c.methods.includes(IG)) {
    const mapSize = [...maps.values()].flat().find((m) => m !== undefined);
    const igMaps: SaliencyMap[] = [];
    const igMs: number[] = [];
    for (const obj of found) {
      await checkpoint(signal);
      const t0 = performance.now();
      const { map } = await igMap(engine, frame, obj, {
        steps: o.igSteps,
        baseline: o.igBaseline,
        blurSigma: resolveBlurSigma(s.blurSigma, W, H),
        ...(mapSize ? { width: mapSize.width, height: mapSize.height } : {}),
        ...(signal ? { signal } : {}),
      });
      igMs.push(performance.now() - t0);
      igMaps.push(map);
      if (!c.state.warnedSlow) {
        c.state.warnedSlow = true;
        c.warn(`ig took ${(igMs[0]! / 1000).toFixed(0)} s for one detection (${o.igSteps} gradient steps); every detection costs about as much`);
      }
    }
    maps.set(IG, igMaps);
    msPerMap.set(IG, igMs);
  }
  // In report order.
  const ordered = new Map(c.methods.flatMap((m) => (maps.has(m) ? [[m, maps.get(m)!] as const] : [])));
  const image = await prepareAuditImage(frame.rgb, W, H, s.blurSigma);
  c.report(frame, found.length, 0);
  const audits = await measureFrame({
    engine,
    frame,
    image,
    detections: found,
    maps: ordered,
    msPerMap,
    // The registry's rows say which methods give every detection of a frame the same map.
    classAgnostic: (m) => isCamMethod(m as AuditMethod) && camMethod(m as CamMethodName, o.methodParams).classAgnostic,
    sensitivity: c.camMethods.filter(c.sensitivityFor),
    explain: { minScore: o.minScore, methodParams: o.methodParams },
    perDetection: o.maps === 'detection',
    rescoreThreshold: c.rescoreThreshold,
    settings: s,
    ...(signal ? { signal } : {}),
    ...(c.stats ? { stats: c.stats } : {}),
    ...(c.perturbed ? { perturbed: c.perturbed } : {}),
  });
  return { found, audits, maps: ordered, explainMs };
}

/** One thumbnail per (frame, method) at most: the lowest energy in box, rendered only when it would be kept. */
export async function galleryItems(frame: Frame, got: FrameAudit, keeper: WorstKeeper<GalleryItem>, engine: AuditableExplainer, width: number): Promise<GalleryItem[]> {
  const worst = new Map<string, { energy: number; det: Detection; index: number; map: SaliencyMap }>();
  for (const a of got.audits) {
    for (const m of Object.keys(a.methods)) {
      const e = a.methods[m]?.energyInBoxes;
      const map = got.maps.get(m)?.[a.detectionIndex];
      const have = worst.get(m);
      if (map && e !== undefined && Number.isFinite(e) && (!have || e < have.energy)) {
        worst.set(m, { energy: e, det: { label: a.label, classId: a.classId, score: a.score, box: a.box }, index: a.detectionIndex, map });
      }
    }
  }
  const out: GalleryItem[] = [];
  for (const [method, w] of worst) {
    if (!keeper.wouldKeep(w.energy)) continue;
    const jpeg = await detectionThumbnail(frame, w.det, w.map, engine.model, engine.backend, { width, quality: 75 });
    out.push({ frame: frame.index, time: frame.time, method, label: w.det.label, detectionIndex: w.index, energyInBoxes: w.energy, jpeg });
  }
  return out;
}
