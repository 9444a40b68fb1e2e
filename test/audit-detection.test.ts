import { describe, expect, it } from 'vitest';
import { mapStats } from '../src/saliency/stats.js';
import { auditDetection } from '../src/audit/detection.js';
import { prepareAuditImage } from '../src/audit/image.js';
import { pointingMetrics } from '../src/audit/pointing.js';
import type { Explain, ScoreBatch } from '../src/audit/types.js';
import type { Box, Detection } from '../src/types.js';
import { boxMaskMap, toyImage } from './audit-helpers.js';

describe('energy-based pointing game', () => {
  it('a map equal to the box mask has energyInBoxes 1 and hits', () => {
    const box: Box = [16, 8, 40, 32]; // aligned to the 8-pixel cells of an 8x6 map over 64x48
    const map = { label: 'car', classId: 2, ...boxMaskMap(8, 6, box, 64, 48) };
    const s = mapStats(map, [box], 64, 48);
    expect(s.energyInBoxes).toBeCloseTo(1, 6);
    expect(s.pointingHit).toBe(true);
    const p = pointingMetrics(map, box, 64, 48);
    expect(p.energyInBoxes).toBeCloseTo(1, 6);
    expect(p.pointingHit).toBe(1);
    expect(p.areaInBoxes).toBeCloseTo((24 * 24) / (64 * 48), 6);
  });

  it('a map outside the box has energy 0 and misses', () => {
    const p = pointingMetrics(boxMaskMap(8, 6, [48, 0, 64, 16], 64, 48), [0, 24, 24, 48], 64, 48);
    expect(p.energyInBoxes).toBe(0);
    expect(p.pointingHit).toBe(0);
  });
});

describe('auditDetection', () => {
  const S = 32;
  const box: Box = [8, 8, 20, 20];
  const detection: Detection = { label: 'car', classId: 2, score: 0.9, box };
  // Toy detector score: share of red left in the box (depends only on the box region).
  const scoreBatch: ScoreBatch = async (images) =>
    images.map((img) => {
      let red = 0;
      for (let y = 8; y < 20; y++) for (let x = 8; x < 20; x++) red += img[(y * S + x) * 3]!;
      return red / (144 * 230);
    });
  const truth = boxMaskMap(8, 8, box, S, S);

  it('scores every method and the random baseline; the true map beats random', async () => {
    const image = await prepareAuditImage(toyImage(S, S, box), S, S, 4);
    const constant: Explain = async () => new Float32Array(64).fill(0.5);
    const r = await auditDetection(
      {
        image,
        detection,
        detectionIndex: 0,
        frame: 12,
        time: 0.48,
        trackId: 3,
        maps: { truth, inverted: { ...truth, data: truth.data.map((v) => 1 - v) } },
        scoreBatch,
        explainers: { truth: constant },
        msPerMap: { truth: 12.5 },
      },
      { steps: 10, deletionBaseline: 'black', randomSeeds: [1, 2, 3, 4] },
    );
    expect(r).toMatchObject({ frame: 12, time: 0.48, label: 'car', classId: 2, trackId: 3, box });
    const t = r.methods.truth!;
    const inv = r.methods.inverted!;
    expect(t.energyInBoxes).toBeCloseTo(1, 6);
    expect(t.pointingHit).toBe(1);
    expect(t.maxSensitivity).toBe(0);
    expect(t.msPerMap).toBe(12.5);
    expect(inv.maxSensitivity).toBeUndefined();
    expect(t.deletionAuc!).toBeLessThan(r.random.deletionAuc! - 0.1);
    expect(t.insertionAuc!).toBeGreaterThan(r.random.insertionAuc!);
    expect(inv.deletionAuc!).toBeGreaterThan(r.random.deletionAuc!);
    // A uniform random map puts about the box's share of the image in the box.
    expect(r.random.energyInBoxes!).toBeCloseTo(r.random.areaInBoxes!, 1);
    expect(r.random.pointingHit!).toBeGreaterThanOrEqual(0);
    expect(r.random.pointingHit!).toBeLessThanOrEqual(1);
    expect(r.random.maxSensitivity!).toBeGreaterThan(0.5);
    // curves kept for the report: steps + 1 points, deletion starts and insertion ends at the unperturbed score
    expect(t.deletionCurve).toHaveLength(11);
    expect(t.deletionCurve![0]).toBe(1);
    expect(t.insertionCurve![10]).toBe(1);
    expect(r.random.deletionCurve).toHaveLength(11);
  });

  it('repeats exactly (seeded random maps) and refuses the reserved name', async () => {
    const image = { rgb: toyImage(S, S, box), width: S, height: S };
    const run = () => auditDetection({ image, detection, detectionIndex: 1, frame: 0, time: 0, maps: { truth }, scoreBatch }, { steps: 5, deletionBaseline: 'black', insertionBaseline: 'black' });
    expect(await run()).toEqual(await run());
    await expect(
      auditDetection({ image, detection, detectionIndex: 0, frame: 0, time: 0, maps: { random: truth }, scoreBatch }),
    ).rejects.toThrow(/reserved/);
  });
});
