// Label plates that never hide one another: one plate per box however many classes share it ("car 0.70 · truck
// 0.34": CenterNet's box head is class-agnostic, so two classes peaking in one cell get the same box), placed
// greedily, best-scoring box first, at the first free spot among a few around its box, else the nearest free
// slot above or below.
import type { Detection } from '../types.js';

export interface PlateRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Detections whose boxes coincide (IoU ≥ this) share one plate and one outline. */
export const SAME_BOX_IOU = 0.9;

export interface BoxGroup {
  /** The group's detections, best score first; the first one's box and colour are drawn. */
  members: Detection[];
}

export function iou(a: Detection['box'], b: Detection['box']): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Detections grouped by coinciding boxes, each group best score first, groups in order of their best score. */
export function groupByBox(detections: readonly Detection[]): BoxGroup[] {
  const groups: BoxGroup[] = [];
  for (const d of [...detections].sort((a, b) => b.score - a.score)) {
    const g = groups.find((x) => iou(x.members[0]!.box, d.box) >= SAME_BOX_IOU);
    if (g) g.members.push(d);
    else groups.push({ members: [d] });
  }
  return groups;
}

/** A group's plate text: "car 0.70 · truck 0.34". */
export function groupText(g: BoxGroup): string {
  return g.members.map((d) => `${d.label} ${d.score.toFixed(2)}`).join(' · ');
}

function overlaps(a: PlateRect, b: PlateRect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Where a `w`×`h` plate for `box` goes, given the plates already placed: above the box, inside its top edge, below
 * it, then the same at its right edge; if all are taken, the nearest free row above or below, then anywhere free.
 * Never over a placed plate while any free spot exists (a frame holds a few dozen plates, not thousands).
 */
export function placePlate(box: PlateRect, w: number, h: number, width: number, height: number, placed: readonly PlateRect[]): { x: number; y: number } {
  const fit = (x: number, y: number) => ({ x: clamp(x, 0, Math.max(0, width - w)), y: clamp(y, 0, Math.max(0, height - h)) });
  const free = (p: { x: number; y: number }) => !placed.some((q) => overlaps({ ...p, w, h }, q));
  const right = box.x + box.w - w;
  const first = box.y - h >= 0 ? box.y - h : box.y;
  const tries = [fit(box.x, first), fit(box.x, box.y), fit(box.x, box.y + box.h), fit(right, first), fit(right, box.y), fit(right, box.y + box.h)];
  for (const p of tries) if (free(p)) return p;
  // Rows stepping away from the box's top, above and below in turn, at the box's left then right edge.
  for (let step = 1; step * h <= height; step++) {
    for (const y of [first - step * h, first + step * h]) {
      if (y < 0 || y > height - h) continue;
      for (const x of [box.x, right]) {
        const p = fit(x, y);
        if (free(p)) return p;
      }
    }
  }
  // Anywhere: scan the image in plate-sized steps.
  for (let y = 0; y <= height - h; y += h) for (let x = 0; x <= width - w; x += Math.max(1, Math.floor(w / 4))) if (free({ x, y })) return { x, y };
  return tries[0]!;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
