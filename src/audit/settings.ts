// One place that turns partial (CLI-supplied) audit settings into complete, checked ones, so a bad flag
// fails before any frame is decoded.
import { UserError } from '../errors.js';
import { checkPerturbationOptions } from './perturbation.js';
import { DEFAULT_AUDIT_SETTINGS, type AuditSettings } from './types.js';

export function resolveAuditSettings(partial: Partial<AuditSettings> = {}): AuditSettings {
  const s: AuditSettings = { ...DEFAULT_AUDIT_SETTINGS, ...partial, randomSeeds: [...(partial.randomSeeds ?? DEFAULT_AUDIT_SETTINGS.randomSeeds)] };
  checkPerturbationOptions(s);
  if (s.randomSeeds.length === 0 || !s.randomSeeds.every(Number.isInteger)) {
    throw new UserError(`audit random seeds must be one or more integers, got '${s.randomSeeds.join(',')}'`);
  }
  if (!Number.isInteger(s.sensitivitySamples) || s.sensitivitySamples < 1) {
    throw new UserError(`sensitivity samples must be a positive integer, got ${s.sensitivitySamples}`);
  }
  if (!(s.sensitivityRadius >= 0 && s.sensitivityRadius <= 1)) {
    throw new UserError(`sensitivity radius must be in [0, 1] (share of 0-255), got ${s.sensitivityRadius}`);
  }
  if (s.temporalMeasure !== 'l1' && s.temporalMeasure !== 'corr') throw new UserError(`unknown temporal measure '${s.temporalMeasure}' (l1 or corr)`);
  if (s.temporalRegion !== 'box' && s.temporalRegion !== 'frame') throw new UserError(`unknown temporal region '${s.temporalRegion}' (box or frame)`);
  if (!(s.trackIou > 0 && s.trackIou < 1)) throw new UserError(`track IoU must be between 0 and 1, got ${s.trackIou}`);
  return s;
}
