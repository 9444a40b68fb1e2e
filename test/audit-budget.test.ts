// `audit --budget`: which frames are admitted, on predicted costs (budget.ts); which frames the sanity check
// keeps (collectors.ts); a frame's distinct maps (what its cost grows with).
import { describe, expect, it } from 'vitest';
import { AuditBudget, BudgetAdmission, FrameCostModel, priorFrameCost } from '../src/audit/budget.js';
import { SanityFrames } from '../src/audit/collectors.js';
import type { FrameAudit } from '../src/audit/frame-audit.js';
import { distinctMaps } from '../src/audit/frame-audit.js';
import { parseAuditRun } from '../src/audit/run.js';
import type { Frame, ScoredDetection } from '../src/types.js';

/** A budget of `total` ms of which `spent` are gone already. */
const budgetWith = (total: number, spent: number) => new AuditBudget(total, performance.now() - spent);
const det = (classId: number): ScoredDetection => ({ label: `c${classId}`, classId, score: 0.9, box: [0, 0, 10, 10], scoreIndices: [] }) as unknown as ScoredDetection;

describe('FrameCostModel', () => {
  it('uses the prior until a frame is measured, then the measured rate per distinct map', () => {
    const m = new FrameCostModel();
    expect(m.predict(3)).toBe(Number.POSITIVE_INFINITY);
    m.prior = (u) => 100 * u;
    expect(m.predict(3)).toBe(300);
    m.record(4, 2000);
    m.record(6, 3000);
    expect(m.measured).toBe(true);
    expect(m.predict(2)).toBe(1000); // 5000 ms over 10 maps
  });

  it('prior: 2·(steps − 1) runs per map shared by the threads, plus ~1 forward per method map explained', () => {
    expect(priorFrameCost(100, { steps: 11, concurrency: 2, explains: 5 })(3)).toBe(100 * ((20 * 3) / 2 + 5));
  });
});

describe('BudgetAdmission', () => {
  const rules = (reserve = 0) => ({ cheapestUnits: 2, prior: (detectMs: number) => (u: number) => detectMs * 10 * u, reserve: () => reserve });

  it('admits a frame whose predicted cost fits in what is left, skips one that does not', () => {
    const b = budgetWith(10_000, 4_000); // ~6 s left
    const a = new BudgetAdmission(b, rules());
    expect(a.fits(2, 200, 0)).toBe(true); // prior: 4 s
    expect(a.fits(4, 200, 1)).toBe(false); // prior: 8 s
    expect(a.fits(0, 200, 2)).toBe(true); // no detections: nothing more to spend
    a.record(2, 5_000); // measured: 2.5 s a map
    expect(a.fits(2, 200, 3)).toBe(true);
    expect(a.fits(3, 200, 3)).toBe(false);
    b.dispose();
  });

  it('keeps the reserve (the sanity check after the frames) out of what frames may spend', () => {
    const b = budgetWith(10_000, 4_000);
    expect(new BudgetAdmission(b, rules(3_000)).fits(2, 200, 0)).toBe(false);
    expect(new BudgetAdmission(b, rules(1_000)).fits(2, 200, 0)).toBe(true);
    b.dispose();
  });

  it('stops the run once even the cheapest frame cannot fit, never before a frame is measured', () => {
    const b = budgetWith(10_000, 7_000); // ~3 s left
    const a = new BudgetAdmission(b, rules());
    expect(a.anyFits()).toBe(true);
    a.record(1, 2_000); // 2 s a map: the cheapest frame (2 maps) needs 4 s
    expect(a.anyFits()).toBe(false);
    b.dispose();
  });

  it('admits nothing once the deadline has passed', async () => {
    const b = new AuditBudget(5);
    await new Promise((r) => setTimeout(r, 20));
    expect(b.signal.aborted).toBe(true);
    expect(new BudgetAdmission(b, rules()).anyFits()).toBe(false);
    b.dispose();
  });
});

describe('SanityFrames', () => {
  const frame = (index: number): Frame => ({ index, time: index, width: 4, height: 4, rgb: new Uint8Array(48) });
  const got = (n: number, explainMs = 100): FrameAudit => ({ found: Array.from({ length: n }, () => det(2)), audits: [], maps: new Map(), explainMs });

  it('in drive order keeps frames at evenly spaced ordinals (or the next with detections)', () => {
    const s = new SanityFrames(4, 16);
    for (let o = 0; o < 16; o++) s.add(frame(o * 10), got(o === 4 ? 0 : 1), o);
    expect(s.frames.map((f) => f.frame.index)).toEqual([0, 50, 80, 120]); // targets 0, 4 (no detections: 5), 8, 12
  });

  it('spread order (a budget): the first frames with detections, as many as it can afford', () => {
    const s = new SanityFrames(4, undefined, (ms) => ms <= 250);
    for (const o of [0, 8, 4, 12, 2]) s.add(frame(o), got(o === 8 ? 0 : 1), o);
    expect(s.frames.map((f) => f.frame.index)).toEqual([0, 4]); // 8 has no detections; a third would cost 300 ms
    expect(s.explainMs).toBe(200);
  });
});

describe('distinctMaps', () => {
  it('counts one map per method and class (per detection with --maps detection; one for Eigen-CAM), plus the random maps', () => {
    const found = [det(2), det(2), det(7)];
    const o = parseAuditRun({ methods: ['xgradcam', 'eigencam'], randomMaps: 3 });
    expect(distinctMaps(found, o)).toBe(2 + 1 + 3);
    expect(distinctMaps(found, { ...o, maps: 'detection' })).toBe(3 + 1 + 3);
    expect(distinctMaps([], o)).toBe(0);
  });
});
