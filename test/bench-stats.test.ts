// The bench's interleaved timing: every variant once per round, warm-up rounds untimed.
import { describe, expect, it } from 'vitest';
import { median, timeInterleaved } from '../src/bench/stats.js';

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
