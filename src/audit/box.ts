// Matching a detection through perturbed copies and across frames, by box overlap (the one `iou`, in
// src/model/nms.ts beside NMS).
import { iou } from '../model/nms.js';
import type { Detection } from '../types.js';

export { iou };

/**
 * Score of `target` among `detections`: the same class with the highest IoU above `minIou` (ties: the higher
 * score), or 0 when the detector no longer finds it.
 */
export function matchedScore(detections: readonly Detection[], target: Detection, minIou = 0.5): number {
  let best = 0;
  let bestIou = minIou;
  for (const d of detections) {
    if (d.classId !== target.classId) continue;
    const o = iou(d.box, target.box);
    if (o > bestIou || (o === bestIou && o > minIou && d.score > best)) {
      bestIou = o;
      best = d.score;
    }
  }
  return best;
}
