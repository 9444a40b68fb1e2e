// The one place where fleet jobs call the export pipeline, the audit and the engine: a change of their
// signatures is fixed in this file only.
import { aggregate } from '../audit/aggregate.js';
import { parseAuditRun, runAudit, type AuditRun } from '../audit/run.js';
import type { AuditReportData, AuditSummary } from '../audit/types.js';
import { writeAuditJson, writeAuditReport } from '../audit/write.js';
import { Engine, type EngineOptions } from '../engine.js';
import { runExport, type ExportSummary } from '../pipeline/export.js';
import type { ExplainOptions, RenderOptions } from '../types.js';
import { probeSource, type SourceInfo } from '../video/index.js';
import type { FleetSettings } from './settings.js';

export type { AuditReportData, AuditSummary, Engine, ExportSummary, SourceInfo };
export { probeSource as probeDrive, writeAuditJson, writeAuditReport };

/** The engine for a job's settings, in this thread: a fleet worker's parallelism is its sandboxed processes. */
export function openEngine(s: FleetSettings['explain'], warn?: (msg: string) => void): Promise<Engine> {
  const options: EngineOptions = {
    model: s.model,
    backend: s.backend as EngineOptions['backend'],
    ...(s.layer ? { layer: s.layer } : {}),
    batching: s.batching,
    workers: 0,
    defaults: explainDefaults(s),
    ...(warn ? { warn } : {}),
  };
  return Engine.create(options);
}

function explainDefaults(s: FleetSettings['explain']): Partial<ExplainOptions> {
  return { method: s.method, classes: s.classes, minScore: s.minScore, perDetection: s.perDetection, methodParams: s.methodParams };
}

export interface SegmentExport {
  input: string;
  output: string;
  sidecar: string;
  start?: number;
  duration?: number;
  every: number;
  render: FleetSettings['render'];
  stop?: AbortSignal;
  onFrame?(done: number): void;
}

export function exportSegment(engine: Engine, o: SegmentExport): Promise<ExportSummary> {
  return runExport(engine, {
    input: o.input,
    output: o.output,
    sidecar: o.sidecar,
    ...(o.start !== undefined ? { start: o.start } : {}),
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
    every: o.every,
    smooth: 0, // smoothing would carry state across segment boundaries, which separate jobs cannot
    render: o.render as RenderOptions,
    ...(o.stop ? { stop: o.stop } : {}),
    ...(o.onFrame ? { onFrame: (done: number) => o.onFrame!(done) } : {}),
  });
}

/** A job's audit run, parsed by the audit's schema (settings a job leaves out take its defaults, as `saliencam audit` without those flags). */
function auditOptions(s: NonNullable<FleetSettings['audit']>, explain: FleetSettings['explain'], start?: number, duration?: number): AuditRun {
  return parseAuditRun({
    ...s,
    ...(start !== undefined ? { start } : {}),
    ...(duration !== undefined ? { duration } : {}),
    classes: explain.classes,
    minScore: explain.minScore,
    methodParams: explain.methodParams,
  });
}

/** Fails on bad audit settings before anything is queued (the same checks and messages as `saliencam audit`). */
export function checkAuditSettings(s: NonNullable<FleetSettings['audit']>, explain: FleetSettings['explain']): void {
  auditOptions(s, explain);
}

export interface SegmentAudit {
  input: string;
  start?: number;
  duration?: number;
  settings: NonNullable<FleetSettings['audit']>;
  explain: FleetSettings['explain'];
  stop?: AbortSignal;
  onFrame?(done: number): void;
}

export async function auditSegment(engine: Engine, o: SegmentAudit): Promise<{ data: AuditReportData; complete: boolean; decodeError?: string }> {
  const result = await runAudit(o.input, auditOptions(o.settings, o.explain, o.start, o.duration), engine, (p) => o.onFrame?.(p.framesDone), {
    ...(o.stop ? { signal: o.stop } : {}),
  });
  return { data: result.data, complete: result.complete, ...(result.decodeError ? { decodeError: result.decodeError } : {}) };
}

/** The audit's summary table (what its report and JSON show) for merged data. */
export function auditSummary(data: AuditReportData): AuditSummary {
  return aggregate(data.detections, data.temporal, data.methods);
}
