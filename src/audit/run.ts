// The audit of a whole source: samples frames, explains every detection with each method, scores every map
// against random maps (deletion/insertion, pointing, max-sensitivity, temporal stability) and gathers the
// report's data. The CLI (src/cli/audit.ts) only parses flags, shows progress and writes the files.
import { DEFAULT_METHOD } from '../saliency/methods/index.js';
import { UserError } from '../errors.js';
import type { Engine } from '../engine.js';
import type { AuditableExplainer, CamMethodName, Frame, ScoredDetection } from '../types.js';
import { probeSource, type SourceInfo } from '../video/index.js';
import { AuditBudget, BudgetAdmission, priorFrameCost } from './budget.js';
import { DetectionsCollector, GalleryCollector, SanityFrames, type FrameCollector } from './collectors.js';
import { AuditAborted } from './engine-bridge.js';
import { auditFrame, detectFrame, distinctMaps, type FrameAuditContext } from './frame-audit.js';
import type { FrameCurveStats, PerturbedRuns } from './frame-curves.js';
import { driveOrder, spreadFrames, type FrameSampler } from './frames.js';
import type { GroundTruth } from './ground-truth.js';
import { LabelsCollector } from './labels-collector.js';
import { isCamMethod, isSlowMethod, scoresBatches, type AuditMethod } from './methods.js';
import { auditReportData } from './report-data.js';
import { expectedSampledFrames, type AuditRun } from './run-options.js';
import { planSanity, runSanity, sanityCostMs, type SanityPlan } from './sanity-run.js';
import { metricSettings } from './settings.js';
import { TrackCollector } from './tracks.js';
import type { AuditReportData, AuditSettings } from './types.js';

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

/** What a run derives from its options once, before any frame. */
interface RunPlan {
  /** The metric settings (metricSettings). */
  s: AuditSettings;
  methods: AuditMethod[];
  camMethods: CamMethodName[];
  sensitivityFor: (m: AuditMethod) => boolean;
  skippedSensitivity: AuditMethod[];
  rescoreThreshold: number;
}

/** Frames (with detections) the sanity check explains again at every step of its cascade, spread over the drive. */
const SANITY_FRAMES = 4;

export async function runAudit(
  source: string,
  /** Parsed at the edge (parseAuditRun). */
  o: AuditRun,
  engine: AuditableExplainer,
  onProgress: (p: AuditProgress) => void = () => undefined,
  control: AuditRunControl = {},
): Promise<AuditRunResult> {
  const warn = control.warn ?? (() => undefined);
  const plan = planRun(o, engine, warn);
  const startedAt = performance.now();
  const sanityPlan = o.sanity && control.createEngine ? await planSanity(control.createEngine) : undefined;
  if (o.sanity && !control.createEngine) warn('--sanity is not run here: it needs to load fresh copies of the model');
  const sampler = await openSampler(source, o, control, warn);
  const framesTotal = o.budget !== undefined ? undefined : sampler.candidates !== undefined && o.maxFrames !== undefined ? Math.min(sampler.candidates, o.maxFrames) : (sampler.candidates ?? o.maxFrames);
  const budget = o.budget !== undefined ? new AuditBudget(o.budget * 1000, startedAt) : undefined;
  const signal = budget ? (control.signal ? AbortSignal.any([control.signal, budget.signal]) : budget.signal) : control.signal;

  const detections = new DetectionsCollector();
  // Under a budget the cascade may take at most half of it: frames are not kept for it beyond that.
  const sanityFrames = sanityPlan
    ? new SanityFrames(SANITY_FRAMES, budget ? undefined : framesTotal, budget ? (ms) => sanityCostMs(sanityPlan, ms) <= budget.totalMs / 2 : undefined)
    : undefined;
  const labels = control.labels
    ? new LabelsCollector(control.labels, engine, { camMethods: plan.camMethods, classes: o.classes, minScore: o.minScore, methodParams: o.methodParams, thumbnails: o.gallery, thumbnailWidth: THUMBNAIL_WIDTH, ...(signal ? { signal } : {}) })
    : undefined;
  const tracks = new TrackCollector(plan.s);
  const gallery = new GalleryCollector(o.gallery, engine, THUMBNAIL_WIDTH);
  const collectors: FrameCollector[] = [detections, tracks, gallery, ...(labels ? [labels] : []), ...(sanityFrames ? [sanityFrames] : [])];

  const state = { framesDone: 0, warnedSlow: false, skippedForBudget: 0 };
  const report = (frame: Frame | undefined, inFrame: number, doneInFrame: number): void =>
    onProgress({
      framesDone: state.framesDone,
      ...(framesTotal !== undefined ? { framesTotal } : {}),
      ...(frame ? { frame: frame.index, time: frame.time } : {}),
      detectionsInFrame: inFrame,
      detectionsDoneInFrame: doneInFrame,
      detectionsDone: detections.count,
      value: state.framesDone + (inFrame > 0 ? doneInFrame / inFrame : 0),
      ...(budget ? { budget: { spentS: budget.spentMs / 1000, totalS: budget.totalMs / 1000 } } : {}),
      intervalWidths: detections.intervalWidths(plan.methods),
    });
  const context: FrameAuditContext = { engine, o, ...plan, framesTotal, warn, report, state, ...(signal ? { signal } : {}), ...(control.stats ? { stats: control.stats } : {}), ...(control.perturbed ? { perturbed: control.perturbed } : {}) };
  const admit = budget ? budgetAdmission(budget, o, plan, control.perturbed?.concurrency ?? 1, sanityPlan && sanityFrames ? { plan: sanityPlan, frames: sanityFrames } : undefined) : undefined;

  let ended: 'source' | 'asked' | 'interrupted' = 'source';
  try {
    for await (const { frame: decoded, ordinal } of sampler.frames) {
      if (control.signal?.aborted) {
        ended = 'interrupted';
        break;
      }
      if (admit && !admit.anyFits()) {
        ended = 'asked';
        break;
      }
      // The decoder hands out Node Buffers, whose slice() is a view, not a copy: keep a plain Uint8Array.
      const frame: Frame = { ...decoded, rgb: new Uint8Array(decoded.rgb.buffer, decoded.rgb.byteOffset, decoded.rgb.byteLength) };
      report(frame, 0, 0);
      const t0 = performance.now();
      const found = await detectFrame(frame, context);
      const units = distinctMaps(found, o);
      if (admit && !admit.fits(units, performance.now() - t0, ordinal)) {
        state.skippedForBudget++;
        continue;
      }
      const got = await auditFrame(frame, found, context);
      admit?.record(units, performance.now() - t0);
      for (const c of collectors) await c.add(frame, got, ordinal);
      state.framesDone++;
      report(undefined, 0, 0);
      if (o.maxFrames !== undefined && state.framesDone >= o.maxFrames) {
        ended = 'asked';
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof AuditAborted)) throw err;
    // The budget's deadline drops the frame then running; the user's Ctrl-C interrupts the run.
    ended = budget?.signal.aborted && !control.signal?.aborted ? 'asked' : 'interrupted';
  } finally {
    budget?.dispose();
  }
  const decoded = await sampler.close();
  if (admit && ended !== 'interrupted' && state.framesDone < 2) {
    const one = Number.isFinite(admit.cheapestMs) ? ` (a frame with one class takes about ${Math.ceil(admit.cheapestMs / 1000)} s here)` : '';
    warn(`--budget ${o.budget}: ${state.framesDone === 0 ? 'no frame' : 'one frame'} fit in it${one}; intervals need two frames or more`);
  }
  const sanity =
    sanityPlan && sanityFrames?.frames.length && ended !== 'interrupted'
      ? await runSanity({ createEngine: control.createEngine!, plan: sanityPlan, frames: sanityFrames.frames, methods: plan.camMethods, methodParams: o.methodParams })
      : undefined;
  const data = auditReportData(source, o, engine, {
    ...plan,
    settings: plan.s,
    framesSampled: state.framesDone,
    detections: detections.results(),
    temporal: tracks.results(),
    gallery: gallery.results(),
    // A budget visits a seekable file's frames spread over it (openSampler), else in drive order.
    frameOrder: o.budget !== undefined && sampler.candidates !== undefined ? 'spread' : 'drive',
    ...(budget ? { skippedForBudget: state.skippedForBudget } : {}),
    ...(sanity ? { sanity: { result: sanity, frames: sanityFrames!.frames.length } } : {}),
    ...(labels && control.labels ? { labels: { report: labels.results(), file: control.labels.file } } : {}),
  });
  return {
    data,
    // Stopping at --max-frames or the budget is what was asked for; only a source that broke off is incomplete.
    complete: ended === 'interrupted' ? false : ended === 'asked' || decoded.complete,
    ...(decoded.error && ended === 'source' ? { decodeError: decoded.error } : {}),
    interrupted: ended === 'interrupted',
  };
}

/** The checks made before any frame is decoded, and what the run derives from its options once. */
function planRun(o: AuditRun, engine: AuditableExplainer, warn: (msg: string) => void): RunPlan {
  const settings = metricSettings(o);
  const methods = [...o.methods];
  const camMethods = methods.filter(isCamMethod);
  // Same checks as explain (class names against the model), before any frame is decoded.
  engine.checkOptions({ ...engine.defaults, method: camMethods[0] ?? DEFAULT_METHOD, classes: o.classes, minScore: o.minScore, perDetection: true, methodParams: o.methodParams });
  const batching = methods.find((m) => scoresBatches(m, o.methodParams));
  if (batching && engine.batchLimit === 1) {
    throw new UserError(`${batching} cannot run on model ${engine.model}: its graph takes one image per forward pass and ${batching} scores batches of masked inputs`);
  }
  const sensitivity = o.samples > 0;
  const sensitivityFor = (m: AuditMethod): boolean => sensitivity && !isSlowMethod(m, o.methodParams);
  const skippedSensitivity = methods.filter((m) => sensitivity && !sensitivityFor(m));
  if (skippedSensitivity.length) warn(`max-sensitivity is not computed for ${skippedSensitivity.join(', ')}: it would recompute each of their slow maps ${settings.sensitivitySamples + 1} times`);
  return { s: settings, methods, camMethods, sensitivityFor, skippedSensitivity, rescoreThreshold: Math.min(RESCORE_THRESHOLD, o.minScore) };
}

/**
 * Admission under a budget: a frame is audited when its predicted cost, plus the sanity check's (which runs
 * after the frames and is part of the budget), fits in what is left.
 */
function budgetAdmission(budget: AuditBudget, o: AuditRun, plan: RunPlan, concurrency: number, sanity?: { plan: SanityPlan; frames: SanityFrames }): BudgetAdmission {
  const camCount = plan.camMethods.length;
  // Method maps explained per frame: its own, and each noisy copy's for the methods getting max-sensitivity.
  const explains = camCount + plan.camMethods.filter(plan.sensitivityFor).length * o.samples;
  return new BudgetAdmission(budget, {
    // The cheapest frame: one detection, so one map per method.
    cheapestUnits: distinctMaps([{ classId: 0 } as ScoredDetection], o),
    prior: (detectMs) => priorFrameCost(detectMs, { steps: o.steps, concurrency, explains }),
    reserve(frame) {
      if (!sanity) return 0;
      // A frame the sanity check would keep adds its explanation (all methods at once, ~1 forward a method,
      // budget.ts) to every step of the cascade.
      const explainMs = frame ? frame.detectMs * camCount : 0;
      const extra = frame && sanity.frames.wants(frame.ordinal, explainMs) ? explainMs : 0;
      return sanityCostMs(sanity.plan, sanity.frames.explainMs + extra);
    },
  });
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
