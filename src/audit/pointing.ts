// Energy-based pointing game and pointing game for one detection, through the shared map statistics
// (src/saliency/stats.ts), so the audit scores maps exactly as `explain --json` reports them.
import { mapStats } from '../saliency/stats.js';
import type { Box, SaliencyMap } from '../types.js';
import type { MapGrid } from './types.js';

export interface PointingResult {
  /** Share of the map's mass inside the box (a uniform map scores `areaInBoxes`). */
  energyInBoxes: number;
  areaInBoxes: number;
  /** 1 when the map's peak falls inside the box, else 0 (a number so it averages into a hit rate). */
  pointingHit: number;
}

export function pointingMetrics(
  map: MapGrid,
  box: Box,
  frameWidth: number,
  frameHeight: number,
  label = '',
  classId = -1,
): PointingResult {
  // mapStats wants a SaliencyMap; the label is not used for the numbers.
  const saliency: SaliencyMap = { label, classId, width: map.width, height: map.height, data: map.data };
  const s = mapStats(saliency, [box], frameWidth, frameHeight);
  return { energyInBoxes: s.energyInBoxes, areaInBoxes: s.areaInBoxes, pointingHit: s.pointingHit ? 1 : 0 };
}
