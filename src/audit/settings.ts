// The metric settings (AuditSettings: what the measurements and the report's settings section read) an audit
// run's options stand for. No checks here: the options were checked by the schema at the edge (parseAuditRun).
import type { AuditRun } from '../settings.js';
import { DEFAULT_AUDIT_SETTINGS, type AuditSettings } from './types.js';

export function metricSettings(o: Pick<AuditRun, 'steps' | 'baseline' | 'samples' | 'radius' | 'randomMaps'>): AuditSettings {
  return {
    ...DEFAULT_AUDIT_SETTINGS,
    steps: o.steps,
    deletionBaseline: o.baseline,
    insertionBaseline: o.baseline,
    // samples 0 turns the metric off (the run skips it); the settings keep their defaults.
    ...(o.samples > 0 ? { sensitivitySamples: o.samples, sensitivityRadius: o.radius } : {}),
    randomSeeds: Array.from({ length: o.randomMaps }, (_, i) => i + 1),
  };
}
