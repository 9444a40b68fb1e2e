// A drive's figures from its merged sidecar: detections per class, the saliency's energy inside the boxes,
// and the frames where it is lowest (the ones to look at first).
import type { ExplainRecord } from '../types.js';

export interface WorstFrame {
  frame: number;
  time?: number;
  /** Mean energy in boxes over the frame's maps. */
  energyInBoxes: number;
  labels: string[];
}

export interface DriveMetrics {
  frames: number;
  framesWithDetections: number;
  detections: number;
  detectionsPerClass: Record<string, number>;
  /** Mean over the maps of the explained frames; null when no map was made. */
  energyInBoxes: number | null;
  energyInBoxesPerClass: Record<string, number>;
  worstFrames: WorstFrame[];
}

export class MetricsCollector {
  private frames = 0;
  private withDetections = 0;
  private detections = 0;
  private perClass = new Map<string, number>();
  private energy = new Map<string, { sum: number; n: number }>();
  private worst: WorstFrame[] = [];

  constructor(private readonly keepWorst = 10) {}

  add(r: Pick<ExplainRecord, 'frame' | 'time' | 'detections' | 'saliency' | 'timing'>): void {
    this.frames++;
    if (r.detections.length) this.withDetections++;
    this.detections += r.detections.length;
    for (const d of r.detections) this.perClass.set(d.label, (this.perClass.get(d.label) ?? 0) + 1);
    // With --every n the frames in between repeat the last maps (timing 0): they would weigh and list the
    // same map n times.
    if (r.timing && r.timing.totalMs === 0) return;
    let sum = 0;
    for (const s of r.saliency) {
      const e = this.energy.get(s.label) ?? { sum: 0, n: 0 };
      e.sum += s.energyInBoxes;
      e.n++;
      this.energy.set(s.label, e);
      sum += s.energyInBoxes;
    }
    if (r.saliency.length) {
      this.worst.push({ frame: r.frame ?? this.frames - 1, ...(r.time !== undefined ? { time: r.time } : {}), energyInBoxes: sum / r.saliency.length, labels: [...new Set(r.saliency.map((s) => s.label))] });
      if (this.worst.length > this.keepWorst * 4) this.trim();
    }
  }

  private trim(): void {
    this.worst.sort((a, b) => a.energyInBoxes - b.energyInBoxes || a.frame - b.frame);
    this.worst.length = Math.min(this.worst.length, this.keepWorst);
  }

  result(): DriveMetrics {
    this.trim();
    let sum = 0;
    let n = 0;
    const perClass: Record<string, number> = {};
    for (const [label, e] of [...this.energy].sort(([a], [b]) => a.localeCompare(b))) {
      perClass[label] = e.sum / e.n;
      sum += e.sum;
      n += e.n;
    }
    return {
      frames: this.frames,
      framesWithDetections: this.withDetections,
      detections: this.detections,
      detectionsPerClass: Object.fromEntries([...this.perClass].sort(([a], [b]) => a.localeCompare(b))),
      energyInBoxes: n ? sum / n : null,
      energyInBoxesPerClass: perClass,
      worstFrames: [...this.worst],
    };
  }
}
