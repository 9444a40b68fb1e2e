// The audit's run options: what runAudit takes, their defaults and checks (the settings schema's fields), and
// how an audit's settings (its flags, a fleet job's audit part) map onto them.
import { z } from 'zod';
import { UserError } from '../errors.js';
import { auditSchema, DEFAULT_AUDIT, DEFAULT_EXPLAIN, explainSchema, methodParamKey, parseSettings, withoutDefaults, type AuditOptions } from '../settings.js';
import type { ExplainOptions } from '../types.js';
import type { SourceInfo } from '../video/index.js';
import type { AuditMethod } from './methods.js';
import { resolveAuditSettings } from './settings.js';
import type { AuditSettings } from './types.js';

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

export type ResolvedRunOptions = AuditRunOptions & { settings: AuditSettings };

/** Checks every option up front, so a bad value fails before anything is decoded. */
export function resolveRunOptions(partial: Partial<AuditRunOptions> & Pick<AuditRunOptions, 'methods'>): ResolvedRunOptions {
  const o = { ...DEFAULT_RUN_OPTIONS, ...partial };
  const { gallery, ...checked } = parseSettings(runOptionsSchema, { ...o, gallery: o.gallerySize }, (m) => new UserError(m));
  return { ...o, ...checked, gallerySize: gallery, settings: resolveAuditSettings(o.settings) } as AuditRunOptions & { settings: AuditSettings };
}

/** The parameters of the audited methods that have some, for the report's settings (`polycamVariant: 'plus'`). */
export function methodParamsOnRecord(methods: readonly AuditMethod[], params: ExplainOptions['methodParams']): Record<string, string | number | boolean> {
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

