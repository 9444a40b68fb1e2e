// The edge of an audit run: its options are the settings schema's auditRunSchema (src/settings.ts), parsed
// once here at each edge (`saliencam audit`, a fleet job) and passed inward as AuditRun.
import { UserError } from '../errors.js';
import { auditRunSchema, methodParamKey, parseSettings, type AuditRun } from '../settings.js';
import type { ExplainOptions } from '../types.js';
import type { SourceInfo } from '../video/index.js';
import type { AuditMethod } from './methods.js';

export type { AuditRun };

/** What an audit run is given before the schema's defaults fill in the rest. */
export type AuditRunInput = Parameters<typeof auditRunSchema.parse>[0];

/** Checks and completes an audit's options (bad values: the same one line as the flags'), before anything is decoded. */
export function parseAuditRun(input: AuditRunInput): AuditRun {
  return parseSettings(auditRunSchema, input, (m) => new UserError(m));
}

/** The parameters of the audited methods that have some, for the report's settings (`polycamVariant: 'plus'`). */
export function methodParamsOnRecord(methods: readonly AuditMethod[], params: ExplainOptions['methodParams']): Record<string, string | number | boolean> {
  const entries = Object.entries(params as Record<string, Record<string, string | number | boolean>>)
    .filter(([m]) => (methods as readonly string[]).includes(m))
    .flatMap(([m, p]) => Object.entries(p).map(([k, v]) => [methodParamKey(m, k), v] as const));
  return Object.fromEntries(entries);
}

/** Sampled frames to expect, from the probed frame count (undefined when the source does not say). */
export function expectedSampledFrames(info: Pick<SourceInfo, 'frameCount' | 'fps' | 'duration'>, o: Pick<AuditRun, 'every' | 'start' | 'duration' | 'maxFrames'>): number | undefined {
  let n = info.frameCount ?? (info.duration && info.fps > 0 ? Math.round(info.duration * info.fps) : undefined);
  if (n === undefined) return o.maxFrames;
  if (o.start && info.fps > 0) n = Math.max(0, n - Math.round(o.start * info.fps));
  if (o.duration && info.fps > 0) n = Math.min(n, Math.max(1, Math.round(o.duration * info.fps)));
  const s = Math.ceil(n / o.every);
  return o.maxFrames !== undefined ? Math.min(s, o.maxFrames) : s;
}

