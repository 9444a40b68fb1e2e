// Follows objects across consecutive sampled frames by box IoU, so temporal stability compares the maps of
// the same object. Greedy matching is enough: dashcam objects move little between sampled frames.
import { iou } from './box.js';
import type { Box, Detection } from '../types.js';

export class IouTracker {
  private active: { id: number; classId: number; box: Box }[] = [];
  private nextId = 0;

  constructor(private readonly minIou = 0.5) {}

  /**
   * Call once per sampled frame, in order. Returns the track id of each detection (same order). A detection
   * continues the track of the previous frame's same-class detection it overlaps most (IoU >= minIou);
   * a track that misses a frame ends, so every track is a run of consecutive sampled frames.
   */
  update(detections: readonly Detection[]): number[] {
    const pairs: { t: number; d: number; o: number }[] = [];
    this.active.forEach((tr, t) => {
      detections.forEach((det, d) => {
        if (det.classId !== tr.classId) return;
        const o = iou(tr.box, det.box);
        if (o >= this.minIou) pairs.push({ t, d, o });
      });
    });
    pairs.sort((a, b) => b.o - a.o || a.t - b.t || a.d - b.d);
    const ids: (number | undefined)[] = new Array(detections.length).fill(undefined);
    const usedTrack = new Set<number>();
    for (const { t, d } of pairs) {
      if (usedTrack.has(t) || ids[d] !== undefined) continue;
      usedTrack.add(t);
      ids[d] = this.active[t]!.id;
    }
    const out = ids.map((id) => id ?? this.nextId++);
    this.active = detections.map((det, d) => ({ id: out[d]!, classId: det.classId, box: det.box }));
    return out;
  }
}

/** Track ids for a whole sequence of frames' detections (see IouTracker.update). */
export function trackDetections(frames: readonly (readonly Detection[])[], minIou = 0.5): number[][] {
  const tracker = new IouTracker(minIou);
  return frames.map((dets) => tracker.update(dets));
}
