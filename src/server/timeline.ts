// Per-frame summary of what the pipeline saw, kept for the dashboard's timeline chart: newly connected
// clients get everything processed so far. Keyed by frame index, so a loop or a seek back overwrites
// instead of piling up duplicates; bounded, oldest first out (a live source runs for ever).
import type { ExplainRecord } from '../types.js';
import type { TimelineEntry } from './messages.js';

export function timelineEntry(record: ExplainRecord, frame: number, time: number): TimelineEntry {
  const classes: TimelineEntry['classes'] = {};
  for (const d of record.detections) {
    const c = (classes[d.label] ??= { count: 0, energy: null });
    c.count++;
  }
  // Per-detection mode has several maps per class: the class's figure is their mean.
  const sums = new Map<string, { sum: number; n: number }>();
  for (const s of record.saliency) {
    const acc = sums.get(s.label) ?? { sum: 0, n: 0 };
    acc.sum += s.energyInBoxes;
    acc.n++;
    sums.set(s.label, acc);
  }
  for (const [label, { sum, n }] of sums) {
    const c = (classes[label] ??= { count: 0, energy: null });
    c.energy = Math.round((sum / n) * 1e4) / 1e4;
  }
  return { frame, time: Math.round(time * 1e4) / 1e4, classes };
}

export class Timeline {
  private readonly entries = new Map<number, TimelineEntry>();

  constructor(private readonly limit = 50_000) {}

  add(entry: TimelineEntry): void {
    this.entries.delete(entry.frame);
    this.entries.set(entry.frame, entry);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** In time order. */
  list(): TimelineEntry[] {
    return [...this.entries.values()].sort((a, b) => a.time - b.time || a.frame - b.frame);
  }
}
