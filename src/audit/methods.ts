// The methods an audit can compare: every CAM plus Integrated Gradients as a pixel-level reference.
import { UserError } from '../errors.js';
import { camMethod } from '../saliency/methods/index.js';
import type { ExplainOptions } from '../types.js';
import { AUDIT_METHODS, CAM_METHODS, DEFAULT_AUDIT_METHODS, IG, type AuditMethod, type CamMethodName } from '../settings.js';

// The names and the default list are the settings schema's (auditSchema.methods).
export { AUDIT_METHODS, DEFAULT_AUDIT_METHODS, IG, type AuditMethod };

/**
 * Whether one map costs many forward passes (max-sensitivity would multiply that by --samples): IG, and the CAMs
 * whose registry row is not realtime.
 */
export function isSlowMethod(m: AuditMethod, params: ExplainOptions['methodParams']): boolean {
  return !isCamMethod(m) || !camMethod(m, params).realtime;
}

/** The registry row's `scoresBatches`: the method scores batches of masked inputs. */
export function scoresBatches(m: AuditMethod, params: ExplainOptions['methodParams']): boolean {
  return isCamMethod(m) && camMethod(m, params).scoresBatches === true;
}

export function isCamMethod(m: AuditMethod): m is CamMethodName {
  return (CAM_METHODS as readonly string[]).includes(m);
}

/** Parses a comma list ("xgradcam,ig"); unknown or repeated names are a UserError. */
export function parseAuditMethods(value: string): AuditMethod[] {
  const list = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (list.length === 0) throw new UserError(`--methods needs at least one method (${AUDIT_METHODS.join(', ')})`);
  const seen = new Set<string>();
  for (const m of list) {
    if (!(AUDIT_METHODS as readonly string[]).includes(m)) throw new UserError(`unknown method '${m}' (one of ${AUDIT_METHODS.join(', ')})`);
    if (seen.has(m)) throw new UserError(`method '${m}' is listed twice in --methods`);
    seen.add(m);
  }
  return list as AuditMethod[];
}
