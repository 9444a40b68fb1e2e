// The audit of a whole source: samples frames, explains every detection with each method, scores every map
// against random maps (deletion/insertion, pointing, max-sensitivity, temporal stability) and gathers the
// report's data. The CLI (src/cli/audit.ts) only parses flags, shows progress and writes the files.
import { basename } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { auditSchema, DEFAULT_AUDIT, DEFAULT_EXPLAIN, explainSchema, methodParamKey, parseSettings, withoutDefaults, type AuditOptions } from '../settings.js';
import type { AuditableExplainer, CamMethodName, Detection, ExplainOptions, Frame, SaliencyMap, ScoredDetection } from '../types.js';
import { openDecoder, type SourceInfo } from '../video/index.js';
import { AuditAborted, checkpoint, engineDetectBatch, igMap, matchDetection } from './engine-bridge.js';
import { measureFrame } from './frame.js';
import type { FrameCurveStats } from './frame-curves.js';
import { camMethod } from '../saliency/methods/index.js';
import { prepareAuditImage, resolveBlurSigma } from './image.js';
import { IG, SLOW_METHODS, isCamMethod, type AuditMethod } from './methods.js';
import { resolveAuditSettings } from './settings.js';
import { TemporalCollector } from './temporal.js';
import { detectionThumbnail } from './thumbnail.js';
import { IouTracker } from './tracker.js';
import type { AuditReportData, AuditSettings, DetectionAudit, GalleryItem } from './types.js';
import { WorstKeeper } from './worst.js';

export interface AuditRunOptions {
  /** In report order. */
  methods: readonly AuditMethod[];
  /** Keep every N-th decoded frame (the first one included). */
  every: number;
  /** Seconds into the source to start at / to decode from there. */
  start?: number;
  duration?: number;
  /** Stop after this many sampled frames. */
  maxFrames?: number;
  /** Classes to audit; empty = all. */
  classes: string[];
  /** Detections below this score are not audited. */
  minScore: number;
  /** Each method's own parameters (the settings schema's `methodParams`). */
  methodParams: ExplainOptions['methodParams'];
  /**
   * Threshold of the detector runs on perturbed copies. Low, so a falling score is tracked down instead of
   * dropping off a cliff at --min-score (never above minScore).
   */
  rescoreThreshold: number;
  /** Compute max-sensitivity (settings.sensitivitySamples re-explanations per map; skipped for SLOW_METHODS). */
  sensitivity: boolean;
  igSteps: number;
  igBaseline: AuditOptions['igBaseline'];
  /** Worst (frame, method) thumbnails kept for the report. */
  gallerySize: number;
  thumbnailWidth: number;
  /** Metric settings (steps, baselines, random seeds, ...); resolved and checked by runAudit. */
  settings: Partial<AuditSettings>;
  /** Source name shown in the report (default: the file name). */
  sourceLabel?: string;
  title?: string;
}

// Defaults and bounds of what the audit's flags set are the settings schema's (auditSchema, explainSchema).
export const DEFAULT_RUN_OPTIONS: Readonly<Omit<AuditRunOptions, 'methods'>> = Object.freeze({
  every: DEFAULT_AUDIT.every,
  classes: [],
  minScore: DEFAULT_EXPLAIN.minScore,
  methodParams: DEFAULT_EXPLAIN.methodParams,
  rescoreThreshold: 0.05,
  sensitivity: true,
  igSteps: DEFAULT_AUDIT.igSteps,
  igBaseline: DEFAULT_AUDIT.igBaseline,
  gallerySize: DEFAULT_AUDIT.gallery,
  thumbnailWidth: 480,
  settings: {},
});

/** The run options' checks: the audit settings' and explain settings' own fields (same bounds, same one-line messages). */
const a = withoutDefaults(auditSchema.shape);
const runOptionsSchema = z.object({
  methods: a.methods,
  every: a.every,
  start: a.start,
  duration: a.duration,
  maxFrames: a.maxFrames,
  igSteps: a.igSteps,
  igBaseline: a.igBaseline,
  // Named as its flag is (`--gallery`), so a bad value reads the same from the API as from the command line.
  gallery: a.gallery,
  classes: explainSchema.shape.classes,
  minScore: explainSchema.shape.minScore,
  methodParams: explainSchema.shape.methodParams,
  thumbnailWidth: z.number().int().min(16).max(8192),
  rescoreThreshold: z.number().gt(0).max(1),
});

export interface AuditProgress {
  /** Sampled frames fully audited. */
  framesDone: number;
  /** Sampled frames expected (from the source's frame count); undefined when unknown. */
  framesTotal?: number;
  /** Source index and time of the frame being audited. */
  frame?: number;
  time?: number;
  detectionsInFrame: number;
  detectionsDoneInFrame: number;
  /** Detections audited so far, all frames. */
  detectionsDone: number;
  /** framesDone plus the share of the current frame done: a smooth value for a progress bar. */
  value: number;
}

export interface AuditRunControl {
  /** Stops the run at the next check (between detector batches); what was audited is returned. */
  signal?: AbortSignal;
  /** Notes for the user (slow methods, skipped metrics). */
  warn?: (msg: string) => void;
  /** The source's probe result, when the caller already has it. */
  info?: SourceInfo;
  /** Counts the detector runs on perturbed copies (bench:audit). */
  stats?: FrameCurveStats;
}

export interface AuditRunResult {
  data: AuditReportData;
  /** False when the source broke off or failed part-way (the data covers what decoded). */
  complete: boolean;
  decodeError?: string;
  /** The signal fired before the end. */
  interrupted: boolean;
}

/** Checks every option up front, so a bad value fails before anything is decoded. */
export function resolveRunOptions(partial: Partial<AuditRunOptions> & Pick<AuditRunOptions, 'methods'>): AuditRunOptions & { settings: AuditSettings } {
  const o = { ...DEFAULT_RUN_OPTIONS, ...partial };
  const { gallery, ...checked } = parseSettings(runOptionsSchema, { ...o, gallery: o.gallerySize }, (m) => new UserError(m));
  return { ...o, ...checked, gallerySize: gallery, settings: resolveAuditSettings(o.settings) } as AuditRunOptions & { settings: AuditSettings };
}

/** The parameters of the audited methods that have some, for the report's settings (`polycamVariant: 'plus'`). */
function methodParamsOnRecord(methods: readonly AuditMethod[], params: ExplainOptions['methodParams']): Record<string, string | number | boolean> {
  const entries = Object.entries(params as Record<string, Record<string, string | number | boolean>>)
    .filter(([m]) => (methods as readonly string[]).includes(m))
    .flatMap(([m, p]) => Object.entries(p).map(([k, v]) => [methodParamKey(m, k), v] as const));
  return Object.fromEntries(entries);
}

/** The run options an audit's settings (its flags, a fleet job's audit part) stand for. */
export function auditRunOptions(a: AuditOptions): Partial<AuditRunOptions> & Pick<AuditRunOptions, 'methods'> {
  return {
    methods: a.methods,
    every: a.every,
    ...(a.start !== undefined ? { start: a.start } : {}),
    ...(a.duration !== undefined ? { duration: a.duration } : {}),
    ...(a.maxFrames !== undefined ? { maxFrames: a.maxFrames } : {}),
    sensitivity: a.samples > 0,
    igSteps: a.igSteps,
    igBaseline: a.igBaseline,
    gallerySize: a.gallery,
    settings: {
      steps: a.steps,
      deletionBaseline: a.baseline,
      insertionBaseline: a.baseline,
      // samples 0 turns the metric off (settings.extra says so); the settings keep their checked defaults.
      ...(a.samples > 0 ? { sensitivitySamples: a.samples, sensitivityRadius: a.radius } : {}),
      randomSeeds: Array.from({ length: a.randomMaps }, (_, i) => i + 1),
    },
  };
}

/** Sampled frames to expect, from the probed frame count (undefined when the source does not say). */
export function expectedSampledFrames(info: Pick<SourceInfo, 'frameCount' | 'fps' | 'duration'>, o: Pick<AuditRunOptions, 'every' | 'start' | 'duration' | 'maxFrames'>): number | undefined {
  let n = info.frameCount ?? (info.duration && info.fps > 0 ? Math.round(info.duration * info.fps) : undefined);
  if (n === undefined) return o.maxFrames;
  if (o.start && info.fps > 0) n = Math.max(0, n - Math.round(o.start * info.fps));
  if (o.duration && info.fps > 0) n = Math.min(n, Math.max(1, Math.round(o.duration * info.fps)));
  const s = Math.ceil(n / o.every);
  return o.maxFrames !== undefined ? Math.min(s, o.maxFrames) : s;
}

export async function runAudit(
  source: string,
  options: Partial<AuditRunOptions> & Pick<AuditRunOptions, 'methods'>,
  engine: AuditableExplainer,
  onProgress: (p: AuditProgress) => void = () => undefined,
  control: AuditRunControl = {},
): Promise<AuditRunResult> {
  const o = resolveRunOptions(options);
  const s = o.settings;
  const { signal } = control;
  const warn = control.warn ?? (() => undefined);
  const methods = [...o.methods];
  const camMethods = methods.filter(isCamMethod);
  const firstCam = camMethods[0];
  // Same checks as explain (class names against the model), before any frame is decoded.
  engine.checkOptions({ ...engine.defaults, method: firstCam ?? 'xgradcam', classes: o.classes, minScore: o.minScore, perDetection: true, methodParams: o.methodParams });
  if (methods.includes('polycam') && engine.batchLimit === 1) {
    throw new UserError(`polycam cannot run on model ${engine.model}: its graph takes one image per forward pass and PolyCAM scores batches of masked inputs`);
  }
  const sensitivityFor = (m: AuditMethod): boolean => o.sensitivity && isCamMethod(m) && !SLOW_METHODS.includes(m);
  const skipped = methods.filter((m) => o.sensitivity && !sensitivityFor(m));
  if (skipped.length) warn(`max-sensitivity is not computed for ${skipped.join(', ')}: it would recompute each of their slow maps ${s.sensitivitySamples + 1} times`);

  const decoder = await openDecoder(source, {
    ...(control.info ? { info: control.info } : {}),
    ...(o.start !== undefined ? { start: o.start } : {}),
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
  });
  const framesTotal = expectedSampledFrames(decoder.info, o);
  const detectForFrame = engineDetectBatch(engine, o.minScore, signal);
  const rescoreThreshold = Math.min(o.rescoreThreshold, o.minScore);
  const tracker = new IouTracker(s.trackIou);
  const keeper = new WorstKeeper<GalleryItem>(o.gallerySize);
  const audits: DetectionAudit[] = [];
  let temporal: TemporalCollector | undefined;
  let framesDone = 0;
  let detectionsDone = 0;
  let interrupted = false;
  let stoppedEarly = false;
  let warnedSlow = false;

  const report = (frame: Frame | undefined, inFrame: number, doneInFrame: number): void =>
    onProgress({
      framesDone,
      ...(framesTotal !== undefined ? { framesTotal } : {}),
      ...(frame ? { frame: frame.index, time: frame.time } : {}),
      detectionsInFrame: inFrame,
      detectionsDoneInFrame: doneInFrame,
      detectionsDone,
      value: framesDone + (inFrame > 0 ? doneInFrame / inFrame : 0),
    });

  async function auditFrame(decoded: Frame): Promise<void> {
    // The decoder hands out Node Buffers, whose slice() is a view, not a copy: the perturbation code copies
    // images with slice(), so it must get a plain Uint8Array or it would paint over the frame itself.
    const frame: Frame = { ...decoded, rgb: new Uint8Array(decoded.rgb.buffer, decoded.rgb.byteOffset, decoded.rgb.byteLength) };
    const { width: W, height: H } = frame;
    report(frame, 0, 0);
    // One forward pass for the detections with their score indices (IG needs them); explain decodes the
    // same heads, so its per-detection maps are matched to these by class and box.
    let found: ScoredDetection[] = (await detectForFrame([frame.rgb], W, H))[0] ?? [];
    if (o.classes.length) found = found.filter((d) => o.classes.includes(d.label));
    // Updated on empty frames too: a track that misses a sampled frame ends.
    const trackIds = tracker.update(found);
    if (found.length === 0) return;

    const camMaps = new Map<AuditMethod, (SaliencyMap | undefined)[]>();
    const camMs = new Map<AuditMethod, number>();
    for (const m of camMethods) {
      await checkpoint(signal);
      const t0 = performance.now();
      const ex = await engine.explain(frame, { method: m, perDetection: true, classes: o.classes, minScore: o.minScore, methodParams: o.methodParams });
      const ms = performance.now() - t0;
      camMaps.set(m, found.map((d) => ex.maps.find((map) => map.detectionIndex === matchDetection(ex.detections, d))));
      if (ex.maps.length) camMs.set(m, ms / ex.maps.length);
      if (m === 'polycam' && !warnedSlow) {
        warnedSlow = true;
        const left = framesTotal !== undefined ? framesTotal - framesDone - 1 : undefined;
        warn(`polycam took ${(ms / 1000).toFixed(0)} s on this frame${left ? `; roughly ${((left * ms) / 60000).toFixed(0)} min more for the other ${left} sampled frames` : ''}`);
      }
    }
    const mapSize = [...camMaps.values()].flat().find((m) => m !== undefined);
    const maps = new Map<string, (SaliencyMap | undefined)[]>();
    const msPerMap = new Map<string, (number | undefined)[]>();
    for (const m of methods) {
      if (m !== IG) {
        maps.set(m, camMaps.get(m) ?? []);
        msPerMap.set(m, found.map(() => camMs.get(m)));
        continue;
      }
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
        if (!warnedSlow && !camMethods.includes('polycam')) {
          warnedSlow = true;
          warn(`ig took ${(igMs[0]! / 1000).toFixed(0)} s for one detection (${o.igSteps} gradient steps); every detection costs about as much`);
        }
      }
      maps.set(m, igMaps);
      msPerMap.set(m, igMs);
    }
    const image = await prepareAuditImage(frame.rgb, W, H, s.blurSigma);
    temporal ??= TemporalCollector.fromSettings(W, H, s);
    report(frame, found.length, 0);
    const frameAudits = await measureFrame({
      engine,
      frame,
      image,
      detections: found,
      trackIds,
      maps,
      msPerMap,
      classAgnostic: (m) => isCamMethod(m as AuditMethod) && camMethod(m as CamMethodName, o.methodParams).classAgnostic,
      sensitivity: camMethods.filter(sensitivityFor),
      explain: { minScore: o.minScore, methodParams: o.methodParams },
      rescoreThreshold,
      settings: s,
      ...(signal ? { signal } : {}),
      ...(control.stats ? { stats: control.stats } : {}),
    });
    const worst = new Map<string, { energy: number; det: Detection; index: number; map: SaliencyMap }>();
    for (const audit of frameAudits) {
      audits.push(audit);
      detectionsDone++;
      const i = audit.detectionIndex;
      const detection: Detection = { label: audit.label, classId: audit.classId, score: audit.score, box: audit.box };
      for (const m of Object.keys(audit.methods)) {
        const map = maps.get(m)![i]!;
        temporal.add(m, trackIds[i]!, { frame: frame.index, label: detection.label, classId: detection.classId, box: detection.box, map });
        const e = audit.methods[m]?.energyInBoxes;
        const have = worst.get(m);
        if (e !== undefined && Number.isFinite(e) && (!have || e < have.energy)) worst.set(m, { energy: e, det: detection, index: i, map });
      }
    }
    // One thumbnail per (frame, method) at most, rendered only when it would enter the gallery.
    for (const [method, w] of worst) {
      if (!keeper.wouldKeep(w.energy)) continue;
      const jpeg = await detectionThumbnail(frame, w.det, w.map, engine.model, engine.backend, { width: o.thumbnailWidth, quality: 75 });
      keeper.offer(w.energy, { frame: frame.index, time: frame.time, method, label: w.det.label, detectionIndex: w.index, energyInBoxes: w.energy, jpeg });
    }
  }

  let ordinal = 0;
  try {
    for await (const frame of decoder) {
      if (ordinal++ % o.every !== 0) continue;
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      await auditFrame(frame);
      framesDone++;
      report(undefined, 0, 0);
      if (o.maxFrames !== undefined && framesDone >= o.maxFrames) {
        stoppedEarly = true;
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof AuditAborted)) throw err;
    interrupted = true;
  } finally {
    await decoder.close();
  }
  const decoded = await decoder.done;

  const extra: Record<string, string | number | boolean> = {
    model: engine.model,
    backend: engine.backend,
    methods: methods.join(', '),
    every: o.every,
    ...(o.start !== undefined ? { start: o.start } : {}),
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
    ...(o.maxFrames !== undefined ? { maxFrames: o.maxFrames } : {}),
    classes: o.classes.length ? o.classes.join(', ') : 'all',
    minScore: o.minScore,
    rescoreThreshold,
    matchIou: 0.5,
    maxSensitivity: o.sensitivity ? (skipped.length ? `on (not for ${skipped.join(', ')})` : 'on') : 'off',
    ...(methods.includes(IG) ? { igSteps: o.igSteps, igBaseline: o.igBaseline } : {}),
    ...methodParamsOnRecord(methods, o.methodParams),
    ...s.extra,
  };
  const data: AuditReportData = {
    ...(o.title ? { title: o.title } : {}),
    source: o.sourceLabel ?? (source === '-' ? 'stdin' : basename(source)),
    model: engine.model,
    backend: engine.backend,
    createdAt: new Date().toISOString(),
    methods,
    settings: { ...s, extra },
    framesSampled: framesDone,
    detections: audits,
    temporal: temporal?.results() ?? [],
    gallery: keeper.items().map((k) => k.item),
  };
  return {
    data,
    // Stopping at --max-frames is what was asked for; only a source that broke off is incomplete.
    complete: interrupted ? false : stoppedEarly || decoded.complete,
    ...(decoded.error && !stoppedEarly && !interrupted ? { decodeError: decoded.error } : {}),
    interrupted,
  };
}
