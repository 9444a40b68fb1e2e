// Picks the gallery's worst frames (lowest energy in the box) so the caller renders overlays only for those.
import type { DetectionAudit } from './types.js';

export interface WorstCandidate {
  frame: number;
  time: number;
  method: string;
  label: string;
  detectionIndex: number;
  energyInBoxes: number;
}

/**
 * The n (frame, method) pairs whose worst detection has the lowest energyInBoxes, lowest first. One entry per
 * frame and method, so one bad frame with many detections does not fill the gallery.
 */
export function worstDetections(detections: readonly DetectionAudit[], n: number, methods?: readonly string[]): WorstCandidate[] {
  const byKey = new Map<string, WorstCandidate>();
  for (const d of detections) {
    for (const [method, v] of Object.entries(d.methods)) {
      if (methods && !methods.includes(method)) continue;
      const e = v.energyInBoxes;
      if (e === undefined || !Number.isFinite(e)) continue;
      const key = `${d.frame}\u0000${method}`;
      const have = byKey.get(key);
      if (!have || e < have.energyInBoxes) {
        byKey.set(key, { frame: d.frame, time: d.time, method, label: d.label, detectionIndex: d.detectionIndex, energyInBoxes: e });
      }
    }
  }
  return [...byKey.values()].sort((a, b) => a.energyInBoxes - b.energyInBoxes || a.frame - b.frame).slice(0, Math.max(0, n));
}

/**
 * Streaming form: keeps the `capacity` lowest-valued items seen, so a long drive keeps only that many
 * thumbnails in memory. Check `wouldKeep` before rendering an expensive item.
 */
export class WorstKeeper<T> {
  private kept: { value: number; item: T }[] = [];

  constructor(private readonly capacity: number) {}

  wouldKeep(value: number): boolean {
    if (!Number.isFinite(value) || this.capacity <= 0) return false;
    return this.kept.length < this.capacity || value < this.kept[this.kept.length - 1]!.value;
  }

  /** Returns whether the item was kept. */
  offer(value: number, item: T): boolean {
    if (!this.wouldKeep(value)) return false;
    const at = this.kept.findIndex((k) => value < k.value);
    this.kept.splice(at < 0 ? this.kept.length : at, 0, { value, item });
    if (this.kept.length > this.capacity) this.kept.pop();
    return true;
  }

  /** Lowest value first. */
  items(): { value: number; item: T }[] {
    return [...this.kept];
  }
}
