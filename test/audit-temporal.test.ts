import { describe, expect, it } from 'vitest';
import { mapChange, sampleInBox, TemporalCollector, trackStability } from '../src/audit/temporal.js';
import { IouTracker, trackDetections } from '../src/audit/tracker.js';
import { randomMap } from '../src/audit/rng.js';
import { RANDOM } from '../src/audit/types.js';
import type { Box, Detection } from '../src/types.js';
import { boxMaskMap } from './audit-helpers.js';

const F = 64; // frame side; 16x16 maps -> 4-pixel cells

describe('mapChange', () => {
  const a = randomMap(8, 8, 1).data;
  const b = randomMap(8, 8, 2).data;
  it('is 0 for identical maps under both measures', () => {
    expect(mapChange(a, a.slice(), 'l1')).toBe(0);
    expect(mapChange(a, a.slice(), 'corr')).toBeCloseTo(0, 12);
  });
  it('l1 is 1 for maps with disjoint mass, corr is 2 for inverted maps', () => {
    expect(mapChange(Float32Array.of(1, 0), Float32Array.of(0, 1), 'l1')).toBe(1);
    expect(mapChange(Float32Array.of(1, 0, 0.5), Float32Array.of(0, 1, 0.5), 'corr')).toBeCloseTo(2, 12);
  });
  it('is about 1/3 (l1) for independent uniform maps', () => {
    expect(mapChange(randomMap(64, 64, 3).data, randomMap(64, 64, 4).data, 'l1')).toBeCloseTo(1 / 3, 1);
    expect(mapChange(a, b, 'corr')).toBeGreaterThan(0.5);
  });
});

describe('temporal stability', () => {
  const boxes: Box[] = [
    [16, 16, 32, 32],
    [20, 16, 36, 32],
    [24, 20, 40, 36],
  ];
  const moving = boxes.map((box, frame) => ({ frame, label: 'car', classId: 2, box, map: boxMaskMap(16, 16, box, F, F) }));

  it('is 0 for identical maps (frame and box regions, both measures)', () => {
    const same = boxes.map((box, frame) => ({ ...moving[0]!, frame, box: boxes[0]! }));
    for (const region of ['frame', 'box'] as const) {
      for (const measure of ['l1', 'corr'] as const) {
        expect(trackStability(same, F, F, { region, measure })).toEqual({ meanChange: 0, transitions: 2 });
      }
    }
  });

  it("region 'box' follows the object: a map moving with its box is stable there but not on the whole frame", () => {
    expect(trackStability(moving, F, F, { region: 'box' }).meanChange).toBeCloseTo(0, 6);
    expect(trackStability(moving, F, F, { region: 'frame' }).meanChange).toBeGreaterThan(0.2);
  });

  it('collects per method and track, with a random baseline per track', () => {
    const c = new TemporalCollector(F, F, { region: 'frame', randomSeeds: [1, 2] });
    moving.forEach((p) => {
      c.add('steady', 5, { ...p, map: moving[0]!.map });
      c.add('moving', 5, p);
    });
    c.add('steady', 9, moving[0]!); // a one-frame track: nothing to compare
    const r = c.results();
    const get = (m: string) => r.find((x) => x.method === m && x.trackId === 5);
    expect(get('steady')).toMatchObject({ meanChange: 0, transitions: 2, label: 'car', classId: 2 });
    expect(get('moving')!.meanChange).toBeGreaterThan(0);
    expect(get(RANDOM)!.transitions).toBe(2); // once per frame, not once per method
    expect(get(RANDOM)!.meanChange).toBeCloseTo(1 / 3, 1);
    expect(r.some((x) => x.trackId === 9)).toBe(false);
    expect(() => c.add(RANDOM, 1, moving[0]!)).toThrow(/reserved/);
  });

  it('sampleInBox reads the map in frame coordinates', () => {
    const m = boxMaskMap(16, 16, [32, 0, 64, 64], F, F); // right half = 1
    expect(Math.min(...sampleInBox(m, [40, 10, 60, 50], F, F, 4))).toBe(1);
    expect(Math.max(...sampleInBox(m, [0, 10, 20, 50], F, F, 4))).toBe(0);
  });
});

describe('IouTracker', () => {
  const det = (classId: number, box: Box): Detection => ({ label: String(classId), classId, score: 0.9, box });
  it('links overlapping same-class boxes across frames and starts new tracks otherwise', () => {
    const ids = trackDetections([
      [det(2, [0, 0, 10, 10]), det(0, [50, 50, 60, 70])],
      [det(0, [51, 50, 61, 70]), det(2, [1, 0, 11, 10]), det(2, [100, 100, 120, 120])],
      [det(7, [1, 0, 11, 10]), det(2, [2, 0, 12, 10])],
    ]);
    expect(ids[0]).toEqual([0, 1]);
    expect(ids[1]).toEqual([1, 0, 2]);
    expect(ids[2]).toEqual([3, 0]); // a truck over the car is a new object; the car keeps its id
  });
  it('ends a track that misses a frame', () => {
    const t = new IouTracker();
    const a = t.update([det(2, [0, 0, 10, 10])]);
    t.update([]);
    const c = t.update([det(2, [0, 0, 10, 10])]);
    expect(c[0]).not.toBe(a[0]);
  });
});
