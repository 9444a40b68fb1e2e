// The per-frame measurement against the per-detection definition: one forward scoring every detection, maps
// shared across detections, images out of drive order, and the spread frame order.
import { describe, expect, it } from 'vitest';
import { frameCurves } from '../src/audit/frame-curves.js';
import { spreadOrder } from '../src/audit/frames.js';
import { perturbationCurves } from '../src/audit/perturbation.js';
import { randomMap } from '../src/audit/rng.js';
import { TrackCollector } from '../src/audit/tracks.js';
import { DEFAULT_AUDIT_SETTINGS, type DetectionAudit } from '../src/audit/types.js';
import type { Box, Detection } from '../src/types.js';
import { toyImage } from './audit-helpers.js';

const W = 48;
const H = 32;
const boxes: Box[] = [
  [4, 4, 20, 20],
  [28, 8, 44, 28],
];
const dets: Detection[] = boxes.map((box, i) => ({ label: 'car', classId: 2, score: 0.9 - i * 0.1, box }));
// Toy detector: each box is found with a score equal to the share of red left in it (floats or bytes alike).
function detect(img: ArrayLike<number>): Detection[] {
  return dets.map((d) => {
    const [x0, y0, x1, y1] = d.box;
    let red = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) red += img[(y * W + x) * 3]!;
    return { ...d, score: red / ((x1 - x0) * (y1 - y0) * 230) };
  });
}

describe('frameCurves', () => {
  const rgb = toyImage(W, H, boxes[0]!);
  rgb.set(toyImage(W, H, boxes[1]!).subarray(0), 0);
  for (const [x0, y0, x1, y1] of boxes) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) rgb[(y * W + x) * 3] = 230;
  const black = new Uint8Array(rgb.length);
  const maps = [randomMap(6, 4, 1), randomMap(6, 4, 2)];

  it('equals the per-detection curves, one forward per image read for every detection', async () => {
    const stats = { runs: 0, detectMs: 0 };
    const image = { width: W, height: H, data: Float32Array.from(rgb), deletionBase: Float32Array.from(black), insertionBase: new Float32Array(0) };
    image.insertionBase = image.deletionBase;
    // map 0 serves both detections (a class-agnostic map), map 1 only the second.
    const got = await frameCurves(image, dets, [{ map: maps[0]!, targets: [0, 1] }, { map: maps[1]!, targets: [1] }], async (imgs) => imgs.map(detect), { steps: 8, batchSize: 3 }, stats);
    expect(stats.runs).toBe(2 + 2 * 7 * 2);
    for (const [job, map, d] of [[0, maps[0]!, 0], [0, maps[0]!, 1], [1, maps[1]!, 1]] as const) {
      const [want] = await perturbationCurves({ rgb, width: W, height: H }, [map], async (imgs) => imgs.map((img) => detect(img)[d]!.score), {
        steps: 8,
        deletionBaseline: 'black',
        insertionBaseline: 'black',
      });
      const r = got[job]![job === 0 ? d : 0]!;
      expect(r.deletion.raw).toEqual(want!.deletion.raw);
      expect(r.insertion.raw).toEqual(want!.insertion.raw);
      expect(r.deletion.auc).toBeCloseTo(want!.deletion.auc, 12);
      expect(r.insertion.auc).toBeCloseTo(want!.insertion.auc, 12);
    }
    // non-degenerate: the curves fall and rise
    expect(got[0]![0]!.deletion.auc).toBeLessThan(0.9);
    expect(got[0]![0]!.insertion.auc).toBeGreaterThan(0.1);
  });
});

describe('frameCurves with the road baseline', () => {
  it('imputes each step from the pixels kept: the box map removes the red first, random does not', async () => {
    const rgb = new Uint8Array(W * H * 3).fill(40);
    for (const [x0, y0, x1, y1] of boxes) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) rgb[(y * W + x) * 3] = 230;
    const truth = { width: W / 4, height: H / 4, data: new Float32Array((W / 4) * (H / 4)) };
    for (let y = 0; y < H / 4; y++) for (let x = 0; x < W / 4; x++) truth.data[y * (W / 4) + x] = x * 4 >= 4 && x * 4 < 20 && y * 4 >= 4 && y * 4 < 20 ? 1 : 0;
    const stats = { runs: 0, detectMs: 0 };
    const got = await frameCurves(
      { width: W, height: H, data: Float32Array.from(rgb), deletionBase: 'road', insertionBase: 'road' },
      dets,
      [{ map: truth, targets: [0] }, { map: randomMap(W / 4, H / 4, 5), targets: [0] }],
      async (imgs) => imgs.map(detect),
      { steps: 6, batchSize: 4 },
      stats,
    );
    expect(stats.runs).toBe(2 + 2 * 5 * 2);
    const [t, r] = [got[0]![0]!, got[1]![0]!];
    expect(t.deletion.y[0]).toBe(1);
    expect(t.deletion.auc).toBeLessThan(r.deletion.auc);
    expect(t.insertion.auc).toBeGreaterThan(r.insertion.auc);
  });
});

describe('spreadOrder', () => {
  it('visits every candidate once, halves first', () => {
    expect(spreadOrder(5)).toEqual([0, 4, 2, 1, 3]);
    expect(spreadOrder(1)).toEqual([0]);
    expect(spreadOrder(0)).toEqual([]);
    const o = spreadOrder(100);
    expect(new Set(o).size).toBe(100);
    // the first 4 visited cover all four quarters of the drive
    expect(new Set(o.slice(0, 4).map((i) => Math.floor(i / 25)))).toEqual(new Set([0, 1, 2, 3]));
  });
});

describe('TrackCollector', () => {
  const audit = (frame: number, box: Box): DetectionAudit => ({
    frame, time: frame, detectionIndex: 0, label: 'car', classId: 2, score: 0.9, box,
    methods: { m: { deletionAuc: 0.2 } }, random: {},
  });
  // One car drifting right over 4 candidate frames; frame 2 is never visited (a gap ends the track).
  const frames = [0, 1, 3].map((o) => ({ ordinal: o, box: [10 + o, 10, 30 + o, 30] as Box }));
  const run = (order: number[]) => {
    const c = new TrackCollector(DEFAULT_AUDIT_SETTINGS);
    const audits: DetectionAudit[] = [];
    for (const i of order) {
      const f = frames[i]!;
      const a = audit(f.ordinal, f.box);
      audits.push(a);
      const map = randomMap(4, 4, f.ordinal);
      c.add({ width: 64, height: 48 }, { found: [{ label: 'car', classId: 2, score: 0.9, box: f.box }], audits: [a], maps: new Map([['m', [{ ...map, label: 'car', classId: 2 }]]]) }, f.ordinal);
    }
    return { temporal: c.results(), tracks: audits.sort((a, b) => a.frame - b.frame).map((a) => a.trackId) };
  };

  it('gives the same tracks and temporal results in drive order and out of it; a gap ends a track', () => {
    const inOrder = run([0, 1, 2]);
    const spread = run([2, 0, 1]);
    expect(inOrder.tracks[0]).toBe(inOrder.tracks[1]);
    expect(inOrder.tracks[2]).not.toBe(inOrder.tracks[1]);
    expect(inOrder.temporal.find((t) => t.method === 'm')!.transitions).toBe(1);
    expect(spread.temporal.map((t) => [t.method, t.transitions, t.meanChange])).toEqual(inOrder.temporal.map((t) => [t.method, t.transitions, t.meanChange]));
  });
});
