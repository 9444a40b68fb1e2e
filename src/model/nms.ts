import type { Box } from '../types.js';

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression within each class; returns the kept items, best first. */
export function nmsPerClass<T extends { classId: number; score: number; box: Box }>(items: T[], iouThreshold = 0.5): T[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const item of sorted) {
    if (kept.some((k) => k.classId === item.classId && iou(k.box, item.box) > iouThreshold)) continue;
    kept.push(item);
  }
  return kept;
}
