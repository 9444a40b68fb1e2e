// The one progress helper, in plain-line mode (not a terminal): what export, fleet workers and the audit print in logs.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clock, createProgress } from '../src/cli/progress.js';

function capture(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }) as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('createProgress (plain lines)', () => {
  it('prints count, details, elapsed time and an estimate left; one line per finished unit when asked', () => {
    const { stream, lines } = capture();
    const p = createProgress('audit', { stream, unit: 'sampled frames', lineEachUnit: true, intervalMs: 60_000 });
    p.update({ done: 0, total: 4, value: 0.5, details: ['3 detections', 'at frame 0 (detection 2/4)'] });
    p.update({ done: 0, total: 4, value: 0.75 }); // same unit, within the interval: no line
    p.update({ done: 1, total: 4, value: 1, details: ['4 detections'] });
    p.log('a warning');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^saliencam: audit: 0\/4 sampled frames, 3 detections, at frame 0 \(detection 2\/4\), 0:00 elapsed, ~0:00 left\n$/);
    expect(lines[1]).toMatch(/^saliencam: audit: 1\/4 sampled frames, 4 detections, 0:00 elapsed, ~0:00 left\n$/);
    expect(lines[2]).toBe('saliencam: a warning\n');
  });

  it('throttles to the interval without lineEachUnit, shows the rate, and is silent when quiet', () => {
    const { stream, lines } = capture();
    const p = createProgress('export', { stream, rateUnit: 'fps', intervalMs: 60_000 });
    p.update({ done: 1 });
    p.update({ done: 2, total: 38 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^saliencam: export: 1\/\? frames, \d+\.\d fps, 0:00 elapsed\n$/);
    const q = capture();
    const quiet = createProgress('export', { stream: q.stream, quiet: true });
    quiet.update({ done: 5, total: 10 });
    expect(q.lines).toEqual([]);
  });

  it('clock writes m:ss or h:mm:ss', () => {
    expect([clock(0), clock(61_400), clock(3_725_000)]).toEqual(['0:00', '1:01', '1:02:05']);
  });
});
