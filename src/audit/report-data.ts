// The report's data from what an audit run collected: its parts, and the settings it ran with on record.
import { basename } from 'node:path';
import type { AuditableExplainer } from '../types.js';
import { IG, type AuditMethod } from './methods.js';
import { methodParamsOnRecord, type AuditRun } from './run-options.js';
import type { SanityResult } from './sanity.js';
import type { LabelsReport } from './labels-types.js';
import type { AuditReportData, AuditSettings, DetectionAudit, GalleryItem, TemporalResult } from './types.js';

/** IoU at which a perturbed run's detection counts as the audited one (box.ts). */
const MATCH_IOU = 0.5;

export interface CollectedParts {
  settings: AuditSettings;
  methods: AuditMethod[];
  /** Methods max-sensitivity was not computed for (slow ones). */
  skippedSensitivity: AuditMethod[];
  framesSampled: number;
  detections: DetectionAudit[];
  temporal: TemporalResult[];
  gallery: GalleryItem[];
  rescoreThreshold: number;
  /** Whether frames were visited in drive order or spread over the drive (a budget on a seekable file). */
  frameOrder: 'drive' | 'spread';
  /** Frames skipped because their predicted cost did not fit in what was left of the budget. */
  skippedForBudget?: number;
  sanity?: { result: SanityResult; frames: number };
  labels?: { report: LabelsReport; file: string };
}

export function auditReportData(source: string, o: AuditRun, engine: Pick<AuditableExplainer, 'model' | 'backend'>, p: CollectedParts): AuditReportData {
  const { methods } = p;
  const sensitivity = o.samples > 0;
  const extra: Record<string, string | number | boolean> = {
    model: engine.model,
    backend: engine.backend,
    methods: methods.join(', '),
    every: o.every,
    ...(o.start !== undefined ? { start: o.start } : {}),
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
    ...(o.maxFrames !== undefined ? { maxFrames: o.maxFrames } : {}),
    ...(o.budget !== undefined ? { budget: o.budget, frameOrder: p.frameOrder, skippedForBudget: p.skippedForBudget ?? 0 } : {}),
    ...(p.sanity ? { sanityFrames: p.sanity.frames, sanityLayers: p.sanity.result.layers.length, sanityThreshold: p.sanity.result.threshold } : {}),
    maps: o.maps,
    classes: o.classes.length ? o.classes.join(', ') : 'all',
    minScore: o.minScore,
    rescoreThreshold: p.rescoreThreshold,
    matchIou: MATCH_IOU,
    ...(p.labels ? { labels: p.labels.file } : {}),
    maxSensitivity: sensitivity ? (p.skippedSensitivity.length ? `on (not for ${p.skippedSensitivity.join(', ')})` : 'on') : 'off',
    ...(methods.includes(IG) ? { igSteps: o.igSteps, igBaseline: o.igBaseline } : {}),
    ...methodParamsOnRecord(methods, o.methodParams),
  };
  return {
    ...(o.title ? { title: o.title } : {}),
    source: o.sourceLabel ?? (source === '-' ? 'stdin' : basename(source)),
    model: engine.model,
    backend: engine.backend,
    createdAt: new Date().toISOString(),
    methods,
    settings: { ...p.settings, extra },
    framesSampled: p.framesSampled,
    detections: p.detections,
    temporal: p.temporal,
    gallery: p.gallery,
    ...(p.sanity ? { sanity: p.sanity.result.methods } : {}),
    ...(p.labels ? { labels: p.labels.report } : {}),
  };
}
