// A fleet audit (segments of a drive audited apart, each by `auditSegment` as a fleet worker does, passed through
// v8 as the segment files are, then merged) gives the numbers of a single-machine audit of the same frames.
// Tiny on purpose: 3 sampled frames, cars, XGrad-CAM, 4 steps, 1 random map, 1 noisy copy.
import { deserialize, serialize } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregate } from '../src/audit/aggregate.js';
import { parseAuditRun, runAudit } from '../src/audit/run.js';
import type { AuditReportData } from '../src/audit/types.js';
import { Engine } from '../src/engine.js';
import { auditSegment } from '../src/fleet/calls.js';
import { mergeAuditParts } from '../src/fleet/merge.js';
import { DEFAULT_EXPLAIN } from '../src/settings.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';

const video = clipPath(TEST_VIDEO);
const audit = { ...({} as Record<string, never>), every: 18, methods: ['xgradcam' as const], steps: 4, randomMaps: 1, samples: 1, gallery: 2 };
const explain = { ...DEFAULT_EXPLAIN, classes: ['car'], minScore: 0.4, model: 'centernet', backend: 'wasm', batching: 'auto', layer: undefined } as never;

describe('fleet audit merge', () => {
  let engine: Engine;
  let single: AuditReportData;
  let merged: AuditReportData;

  beforeAll(async () => {
    engine = await Engine.create({ backend: 'wasm' });
    // Frames 0, 18, 36 (25 fps): segment 1 = [0, 0.72 s) holds frame 0, segment 2 = frames 18 and 36.
    const settings = audit as never;
    const parts = [
      await auditSegment(engine, { input: video, start: 0, duration: 0.72, settings, explain }),
      await auditSegment(engine, { input: video, start: 0.72, settings, explain }),
    ].map((r) => deserialize(serialize(r.data)) as AuditReportData);
    merged = mergeAuditParts(parts, 'drive');
    single = (
      await runAudit(video, parseAuditRun({ methods: ['xgradcam'], every: 18, classes: ['car'], minScore: 0.4, gallery: 2, steps: 4, randomMaps: 1, samples: 1 }), engine)
    ).data;
  }, 600_000);

  afterAll(() => engine?.dispose());

  it('has the same frames and detections with the same per-detection numbers', () => {
    expect(merged.framesSampled).toBe(3);
    expect(single.framesSampled).toBe(3);
    expect([...new Set(merged.detections.map((d) => d.frame))]).toEqual([0, 18, 36]);
    expect(merged.detections.length).toBeGreaterThanOrEqual(3);
    // Wall times (ms per map) differ run to run; track ids restart per segment (merge offsets them).
    const strip = (d: AuditReportData['detections'][number]) => ({
      ...d,
      trackId: undefined,
      methods: Object.fromEntries(Object.entries(d.methods).map(([m, { msPerMap: _ms, ...v }]) => [m, v])),
    });
    expect(merged.detections.map(strip)).toEqual(single.detections.map(strip));
  });

  it('has the same summary (means, intervals, comparisons) apart from tracks cut at the segment boundary', () => {
    const a = aggregate(merged.detections, merged.temporal, merged.methods);
    const b = aggregate(single.detections, single.temporal, single.methods);
    const noTemporal = (rows: typeof a.overall) => rows.map(({ temporalChange: _t, msPerMap: _ms, ...r }) => r);
    expect(noTemporal(a.overall)).toEqual(noTemporal(b.overall));
    expect(a.comparisons).toEqual(b.comparisons);
    expect(a.overall[0]!.deletionAuc.ci95).toBeDefined();
  });
});
