// `--normalise box`: each detection's heat scaled within its own box (as pytorch-grad-cam's
// renormalize_cam_in_bounding_boxes), so a weak object's map is not drowned by a strong one's peak; outside every
// box the map is zero. The global view (each map scaled by its own maximum) stays the default.
import type { Box, Detection, ExplainedFrame, SaliencyMap } from '../types.js';

/** The boxes a map explains: its detection's, its region's, or every detection of its class. */
export function boxesOfMap(m: SaliencyMap, detections: readonly Detection[]): Box[] {
  if (m.region) return [m.region];
  if (m.detectionIndex !== undefined) return detections[m.detectionIndex] ? [detections[m.detectionIndex]!.box] : [];
  return detections.filter((d) => d.classId === m.classId && d.label === m.label).map((d) => d.box);
}

/** Each map with its values min-max scaled inside each of its boxes (cells centred in the box; at least one). */
export function normaliseInBoxes(maps: readonly SaliencyMap[], detections: readonly Detection[], frameWidth: number, frameHeight: number): SaliencyMap[] {
  return maps.map((m) => {
    const out = new Float32Array(m.data.length);
    const sx = m.width / frameWidth;
    const sy = m.height / frameHeight;
    for (const [x1, y1, x2, y2] of boxesOfMap(m, detections)) {
      const span = (lo: number, hi: number, s: number, n: number): [number, number] => {
        const a = Math.max(0, Math.ceil(lo * s - 0.5));
        const b = Math.min(n - 1, Math.floor(hi * s - 0.5));
        if (a <= b) return [a, b];
        const c = Math.min(n - 1, Math.max(0, Math.floor(((lo + hi) / 2) * s)));
        return [c, c];
      };
      const [cx0, cx1] = span(x1, x2, sx, m.width);
      const [cy0, cy1] = span(y1, y2, sy, m.height);
      let lo = Infinity;
      let hi = -Infinity;
      for (let y = cy0; y <= cy1; y++) {
        for (let x = cx0; x <= cx1; x++) {
          const v = m.data[y * m.width + x]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      const range = hi - lo;
      for (let y = cy0; y <= cy1; y++) {
        for (let x = cx0; x <= cx1; x++) {
          const i = y * m.width + x;
          // Overlapping boxes of one map: each cell keeps its larger scaled value.
          const v = range > 0 ? (m.data[i]! - lo) / range : 0;
          if (v > out[i]!) out[i] = v;
        }
      }
    }
    return { ...m, data: out };
  });
}

/** Region ("why not") targets as boxes of their class, labelled "why car" with the class's best score there. */
export function regionBoxes(ex: ExplainedFrame): Detection[] {
  return (ex.record.why ?? []).map((w) => ({ label: `why ${w.label}`, classId: ex.maps.find((m) => m.region && m.label === w.label)?.classId ?? 0, score: w.bestScore, box: w.box }));
}
