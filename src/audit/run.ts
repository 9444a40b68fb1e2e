// The audit of a whole source: samples frames, explains every detection with each method, scores every map
// against random maps (deletion/insertion, pointing, max-sensitivity, temporal stability) and gathers the
// report's data. The CLI (src/cli/audit.ts) only parses flags, shows progress and writes the files.
import { basename } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { auditSchema, DEFAULT_AUDIT, DEFAULT_EXPLAIN, explainSchema, methodParamKey, parseSettings, withoutDefaults, type AuditOptions } from '../settings.js';
import type { Engine } from '../engine.js';
import type { AuditableExplainer, ExplainOptions, Frame, ScoredDetection } from '../types.js';
import { runSanity } from './sanity-run.js';
import { probeSource, type SourceInfo } from '../video/index.js';
import { clusterBootstrap } from './bootstrap.js';
import { AuditAborted } from './engine-bridge.js';
import { auditFrame, galleryItems, type FrameAudit } from './frame-audit.js';
import type { FrameCurveStats } from './frame-curves.js';
import { driveOrder, spreadFrames, type FrameSampler } from './frames.js';
import { IG, isCamMethod, isSlowMethod, scoresBatches, type AuditMethod } from './methods.js';
import { resolveAuditSettings } from './settings.js';
import { TrackCollector } from './tracks.js';
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
  /** Seconds to spend: frames are then visited spread over the drive, and the run stops when it is spent. */
  budget?: number;
  /** Which maps are audited: each class's map (what explain shows by default) or each detection's own. */
  maps: AuditOptions['maps'];
  /** Run the model-parameter randomisation test on the first audited frames (needs control.createEngine). */
  sanity?: boolean;
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
  /** Compute max-sensitivity (settings.sensitivitySamples re-explanations per map; skipped for slow methods: isSlowMethod). */
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
  maps: DEFAULT_AUDIT.maps,
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
  budget: a.budget,
  maps: a.maps,
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
  /** With --budget: seconds spent and allowed. */
  budget?: { spentS: number; totalS: number };
  /** Per method, the current width of its deletion AUC's 95 % interval (from 2 detections on). */
  intervalWidths?: Record<string, number>;
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
  /** A fresh engine like the audited one, for --sanity (each randomisation step loads its own). */
  createEngine?: () => Promise<Engine>;
}

export interface AuditRunResult {
  data: AuditReportData;
  /** False when the source broke off or failed part-way (the data covers what decoded). */
  complete: boolean;
  decodeError?: string;
  /** The signal fired before the end. */
  interrupted: boolean;
}

/** Frames (with detections) the sanity check explains again at every step of its cascade. */
const SANITY_FRAMES = 2;

export type ResolvedRunOptions = AuditRunOptions & { settings: AuditSettings };

/** Checks every option up front, so a bad value fails before anything is decoded. */
export function resolveRunOptions(partial: Partial<AuditRunOptions> & Pick<AuditRunOptions, 'methods'>): ResolvedRunOptions {
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
    ...(a.budget !== undefined ? { budget: a.budget } : {}),
    sanity: a.sanity,
    maps: a.maps,
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
  const batching = methods.find((m) => scoresBatches(m, o.methodParams));
  if (batching && engine.batchLimit === 1) {
    throw new UserError(`${batching} cannot run on model ${engine.model}: its graph takes one image per forward pass and ${batching} scores batches of masked inputs`);
  }
  const sensitivityFor = (m: AuditMethod): boolean => o.sensitivity && !isSlowMethod(m, o.methodParams);
  const skipped = methods.filter((m) => o.sensitivity && !sensitivityFor(m));
  if (skipped.length) warn(`max-sensitivity is not computed for ${skipped.join(', ')}: it would recompute each of their slow maps ${s.sensitivitySamples + 1} times`);

  if (o.sanity && !control.createEngine) warn('--sanity is not run here: it needs to load fresh copies of the model');
  const sanityFrames: { frame: Frame; found: ScoredDetection[] }[] = [];
  const startedAt = performance.now();
  const sampler = await openSampler(source, o, control, warn);
  const framesTotal = o.budget !== undefined ? undefined : sampler.candidates !== undefined && o.maxFrames !== undefined ? Math.min(sampler.candidates, o.maxFrames) : (sampler.candidates ?? o.maxFrames);
  const rescoreThreshold = Math.min(o.rescoreThreshold, o.minScore);
  const tracks = new TrackCollector(s);
  const keeper = new WorstKeeper<GalleryItem>(o.gallerySize);
  const audits: DetectionAudit[] = [];
  const state = { framesDone: 0, detectionsDone: 0, warnedSlow: false };
  let interrupted = false;
  let stoppedEarly = false;
  // The budget: frames are not started when the mean frame so far would overrun it, and a frame still running
  // when it is spent is dropped (its partial work discarded); the outputs cover the frames done.
  const budgetMs = o.budget !== undefined ? o.budget * 1000 : undefined;
  const budgetStop = new AbortController();
  const budgetTimer = budgetMs !== undefined ? setTimeout(() => budgetStop.abort(), Math.max(0, budgetMs - (performance.now() - startedAt))) : undefined;
  const frameSignal = signal ? AbortSignal.any([signal, budgetStop.signal]) : budgetStop.signal;

  const report = (frame: Frame | undefined, inFrame: number, doneInFrame: number): void =>
    onProgress({
      framesDone: state.framesDone,
      ...(framesTotal !== undefined ? { framesTotal } : {}),
      ...(frame ? { frame: frame.index, time: frame.time } : {}),
      detectionsInFrame: inFrame,
      detectionsDoneInFrame: doneInFrame,
      detectionsDone: state.detectionsDone,
      value: state.framesDone + (inFrame > 0 ? doneInFrame / inFrame : 0),
      ...(budgetMs !== undefined ? { budget: { spentS: (performance.now() - startedAt) / 1000, totalS: budgetMs / 1000 } } : {}),
      intervalWidths: intervalWidths(audits, methods),
    });

  try {
    for await (const { frame: decoded, ordinal } of sampler.frames) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      if (budgetMs !== undefined) {
        const spent = performance.now() - startedAt;
        const perFrame = state.framesDone > 0 ? spent / state.framesDone : 0;
        if (budgetStop.signal.aborted || spent + perFrame > budgetMs) {
          stoppedEarly = true;
          break;
        }
      }
      // The decoder hands out Node Buffers, whose slice() is a view, not a copy: keep a plain Uint8Array.
      const frame: Frame = { ...decoded, rgb: new Uint8Array(decoded.rgb.buffer, decoded.rgb.byteOffset, decoded.rgb.byteLength) };
      let got: FrameAudit;
      try {
        got = await auditFrame(frame, { engine, o, methods, camMethods, sensitivityFor, rescoreThreshold, framesTotal, warn, report, state, signal: frameSignal, ...(control.stats ? { stats: control.stats } : {}) });
      } catch (err) {
        if (err instanceof AuditAborted && budgetStop.signal.aborted && !signal?.aborted) {
          stoppedEarly = true;
          break;
        }
        throw err;
      }
      audits.push(...got.audits);
      if (o.sanity && got.found.length && sanityFrames.length < SANITY_FRAMES) sanityFrames.push({ frame, found: got.found });
      tracks.add(frame, { ordinal, found: got.found, audits: got.audits, maps: got.maps });
      for (const item of await galleryItems(frame, got, keeper, engine, o.thumbnailWidth)) keeper.offer(item.energyInBoxes, item);
      state.framesDone++;
      state.detectionsDone += got.audits.length;
      report(undefined, 0, 0);
      if (o.maxFrames !== undefined && state.framesDone >= o.maxFrames) {
        stoppedEarly = true;
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof AuditAborted)) throw err;
    interrupted = true;
  } finally {
    if (budgetTimer) clearTimeout(budgetTimer);
  }
  const decoded = await sampler.close();
  // Frames were visited out of drive order with a budget: the report lists them in drive order.
  audits.sort((a, b) => a.frame - b.frame || a.detectionIndex - b.detectionIndex);
  const temporal = tracks.results();
  const sanity =
    o.sanity && !interrupted && control.createEngine && sanityFrames.length
      ? await runSanity({ createEngine: control.createEngine, frames: sanityFrames, methods: camMethods, methodParams: o.methodParams })
      : undefined;

  const extra: Record<string, string | number | boolean> = {
    model: engine.model,
    backend: engine.backend,
    methods: methods.join(', '),
    every: o.every,
    ...(o.start !== undefined ? { start: o.start } : {}),
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
    ...(o.maxFrames !== undefined ? { maxFrames: o.maxFrames } : {}),
    ...(o.budget !== undefined ? { budget: o.budget, frameOrder: sampler.candidates !== undefined ? 'spread' : 'drive' } : {}),
    ...(sanity ? { sanityFrames: sanityFrames.length, sanityLayers: sanity.layers.length, sanityThreshold: sanity.threshold } : {}),
    maps: o.maps,
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
    framesSampled: state.framesDone,
    detections: audits,
    temporal,
    gallery: keeper.items().map((k) => k.item),
    ...(sanity ? { sanity: sanity.methods } : {}),
  };
  return {
    data,
    // Stopping at --max-frames or the budget is what was asked for; only a source that broke off is incomplete.
    complete: interrupted ? false : stoppedEarly || decoded.complete,
    ...(decoded.error && !stoppedEarly && !interrupted ? { decodeError: decoded.error } : {}),
    interrupted,
  };
}

/** Frames in drive order, or spread over the drive when there is a budget and the source can seek. */
async function openSampler(source: string, o: ResolvedRunOptions, control: AuditRunControl, warn: (m: string) => void): Promise<FrameSampler> {
  const opts = { every: o.every, ...(o.start !== undefined ? { start: o.start } : {}), ...(o.duration !== undefined ? { duration: o.duration } : {}) };
  if (o.budget !== undefined) {
    const info = control.info ?? (await probeSource(source));
    const spread = source.toLowerCase().endsWith('.mcap') ? undefined : spreadFrames(source, info, opts);
    if (spread) return spread;
    warn('--budget: this source cannot seek or does not say how long it is; frames are audited in drive order until the budget is spent');
    return driveOrder(source, { ...opts, info });
  }
  const d = await driveOrder(source, { ...opts, ...(control.info ? { info: control.info } : {}) });
  const candidates = expectedSampledFrames(d.info, { ...opts, ...(o.maxFrames !== undefined ? { maxFrames: o.maxFrames } : {}) });
  return { ...d, ...(candidates !== undefined ? { candidates } : {}) };
}

/** Current 95 % interval width of each method's deletion AUC (what the progress bar shows). */
function intervalWidths(audits: readonly DetectionAudit[], methods: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  // One frame's resamples are all alike: no width to show yet.
  if (new Set(audits.map((a) => a.frame)).size < 2) return out;
  for (const m of methods) {
    const ci = clusterBootstrap(audits.map((a) => ({ value: a.methods[m]?.deletionAuc ?? NaN, cluster: a.frame })), { resamples: 200 }).ci95;
    if (Number.isFinite(ci[0]) && Number.isFinite(ci[1])) out[m] = ci[1] - ci[0];
  }
  return out;
}
