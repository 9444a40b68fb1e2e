// The audit of a whole source: samples frames, explains every detection with each method, scores every map
// against random maps (deletion/insertion, pointing, max-sensitivity, temporal stability) and gathers the
// report's data. The CLI (src/cli/audit.ts) only parses flags, shows progress and writes the files.
import { DEFAULT_METHOD } from '../saliency/methods/index.js';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import type { Engine } from '../engine.js';
import type { AuditableExplainer, Frame, ScoredDetection } from '../types.js';
import { probeSource, type SourceInfo } from '../video/index.js';
import { expectedSampledFrames, methodParamsOnRecord, type AuditRun } from './run-options.js';
import { metricSettings } from './settings.js';
import { runSanity } from './sanity-run.js';
import { clusterBootstrap } from './bootstrap.js';
import { AuditAborted } from './engine-bridge.js';
import { auditFrame, galleryItems, type FrameAudit } from './frame-audit.js';
import type { FrameCurveStats, PerturbedRuns } from './frame-curves.js';
import { driveOrder, spreadFrames, type FrameSampler } from './frames.js';
import { IG, isCamMethod, isSlowMethod, scoresBatches, type AuditMethod } from './methods.js';
import type { GroundTruth } from './ground-truth.js';
import { LabelsCollector } from './labels-collector.js';
import { TrackCollector } from './tracks.js';
import type { AuditReportData, DetectionAudit, GalleryItem } from './types.js';
import { WorstKeeper } from './worst.js';

// The options' edge lives in run-options.ts; callers import it from here.
export { expectedSampledFrames, parseAuditRun, type AuditRun, type AuditRunInput } from './run-options.js';

/**
 * Threshold of the detector runs on perturbed copies: low, so a falling score is tracked down instead of
 * dropping off a cliff at --min-score (never above it).
 */
const RESCORE_THRESHOLD = 0.05;
/** Width of the report's thumbnails (gallery, labels). */
const THUMBNAIL_WIDTH = 480;

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
  /** Scores the perturbed copies on a worker pool (`--workers`), several batches at once; else the engine does. */
  perturbed?: PerturbedRuns;
  /** A fresh engine like the audited one, for --sanity (each randomisation step loads its own). */
  createEngine?: () => Promise<Engine>;
  /** `--labels`: ground truth for the labelled frames (ground-truth.ts); the report gains its `labels` section. */
  labels?: GroundTruth;
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

export async function runAudit(
  source: string,
  /** Parsed at the edge (parseAuditRun). */
  o: AuditRun,
  engine: AuditableExplainer,
  onProgress: (p: AuditProgress) => void = () => undefined,
  control: AuditRunControl = {},
): Promise<AuditRunResult> {
  const s = metricSettings(o);
  const sensitivity = o.samples > 0;
  const { signal } = control;
  const warn = control.warn ?? (() => undefined);
  const methods = [...o.methods];
  const camMethods = methods.filter(isCamMethod);
  const firstCam = camMethods[0];
  // Same checks as explain (class names against the model), before any frame is decoded.
  engine.checkOptions({ ...engine.defaults, method: firstCam ?? DEFAULT_METHOD, classes: o.classes, minScore: o.minScore, perDetection: true, methodParams: o.methodParams });
  const batching = methods.find((m) => scoresBatches(m, o.methodParams));
  if (batching && engine.batchLimit === 1) {
    throw new UserError(`${batching} cannot run on model ${engine.model}: its graph takes one image per forward pass and ${batching} scores batches of masked inputs`);
  }
  const sensitivityFor = (m: AuditMethod): boolean => sensitivity && !isSlowMethod(m, o.methodParams);
  const skipped = methods.filter((m) => sensitivity && !sensitivityFor(m));
  if (skipped.length) warn(`max-sensitivity is not computed for ${skipped.join(', ')}: it would recompute each of their slow maps ${s.sensitivitySamples + 1} times`);

  if (o.sanity && !control.createEngine) warn('--sanity is not run here: it needs to load fresh copies of the model');
  const sanityFrames: { frame: Frame; found: ScoredDetection[] }[] = [];
  const startedAt = performance.now();
  const sampler = await openSampler(source, o, control, warn);
  const framesTotal = o.budget !== undefined ? undefined : sampler.candidates !== undefined && o.maxFrames !== undefined ? Math.min(sampler.candidates, o.maxFrames) : (sampler.candidates ?? o.maxFrames);
  const rescoreThreshold = Math.min(RESCORE_THRESHOLD, o.minScore);
  const tracks = new TrackCollector(s);
  const keeper = new WorstKeeper<GalleryItem>(o.gallery);
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
  const labels = control.labels
    ? new LabelsCollector(control.labels, engine, { camMethods, classes: o.classes, minScore: o.minScore, methodParams: o.methodParams, thumbnails: o.gallery, thumbnailWidth: THUMBNAIL_WIDTH, signal: frameSignal })
    : undefined;

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
        got = await auditFrame(frame, { engine, o, s, methods, camMethods, sensitivityFor, rescoreThreshold, framesTotal, warn, report, state, signal: frameSignal, ...(control.stats ? { stats: control.stats } : {}), ...(control.perturbed ? { perturbed: control.perturbed } : {}) });
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
      for (const item of await galleryItems(frame, got, keeper, engine, THUMBNAIL_WIDTH)) keeper.offer(item.energyInBoxes, item);
      await labels?.add(frame, got);
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
    ...(control.labels ? { labels: control.labels.file } : {}),
    maxSensitivity: sensitivity ? (skipped.length ? `on (not for ${skipped.join(', ')})` : 'on') : 'off',
    ...(methods.includes(IG) ? { igSteps: o.igSteps, igBaseline: o.igBaseline } : {}),
    ...methodParamsOnRecord(methods, o.methodParams),
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
    ...(labels ? { labels: labels.results() } : {}),
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
async function openSampler(source: string, o: AuditRun, control: AuditRunControl, warn: (m: string) => void): Promise<FrameSampler> {
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
