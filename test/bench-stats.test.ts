// The bench's interleaved timing: every variant once per round, warm-up rounds untimed.
import { describe, expect, it } from 'vitest';
import { median, medianRatio, ratesInterleaved, timeInterleaved } from '../src/bench/stats.js';

describe('timeInterleaved', () => {
  it('runs the variants round robin and times only the rounds after the warm-ups', async () => {
    const calls: string[] = [];
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const runs = await timeInterleaved(
      {
        a: async () => void calls.push('a'),
        b: async () => {
          calls.push('b');
          await wait(20);
        },
      },
      3,
      2,
    );
    expect(calls).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    expect(runs['a']).toHaveLength(3);
    expect(runs['b']).toHaveLength(3);
    expect(median(runs['b']!)).toBeGreaterThanOrEqual(15);
    expect(median(runs['a']!)).toBeLessThan(median(runs['b']!));
  });
});

describe('ratesInterleaved and medianRatio', () => {
  it('runs self-timed variants round robin and takes the ratio round by round', async () => {
    const calls: string[] = [];
    // A machine whose speed drifts between rounds: b is always twice a within a round, never across rounds.
    const speed = [1, 3, 0.5];
    let round = 0;
    const runs = await ratesInterleaved(
      {
        a: async () => (calls.push('a'), { fps: speed[round]!, frames: 10 }),
        b: async () => (calls.push('b'), { fps: 2 * speed[round++]!, frames: 10 }),
      },
      3,
    );
    expect(calls).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(medianRatio(runs['b']!, runs['a']!)).toBe(2);
    // One round where the load hit one row alone: the ratio of the medians would say 5, the rounds' ratios 2.
    const skewed = [{ fps: 1, frames: 1 }, { fps: 3, frames: 1 }, { fps: 0.5, frames: 1 }];
    const other = [{ fps: 2, frames: 1 }, { fps: 6, frames: 1 }, { fps: 5, frames: 1 }];
    expect(median(other.map((r) => r.fps)) / median(skewed.map((r) => r.fps))).toBe(5);
    expect(medianRatio(other, skewed)).toBe(2);
  });
});
