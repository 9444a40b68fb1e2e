// Box overlap, used to follow a detection through perturbed copies and across frames.
import type { Box, Detection } from '../types.js';

export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

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
