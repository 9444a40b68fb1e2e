// Bench rows for the failure targets: one region ("why not here", a full backward for its element-wise map) and
// one contrastive detection target (two cells per detection through the fast gradient sums).
import type { Engine } from '../engine.js';
import type { Frame } from '../types.js';

export const FAILURE_ROWS = ['why1', 'versusK1'] as const;

export function failureTargetVariants(engine: Engine, frame: Frame): Partial<Record<(typeof FAILURE_ROWS)[number], () => Promise<unknown>>> {
  // A box on the road ahead, where the sample drive's cars pass.
  const box: [number, number, number, number] = [Math.round(frame.width * 0.35), Math.round(frame.height * 0.5), Math.round(frame.width * 0.5), Math.round(frame.height * 0.65)];
  // COCO detectors ask about cars (the drive's objects) against buses; any other model about its own first two
  // classes, so that `bench --model` runs these rows for every model.
  const names = engine.classNames;
  const asked = names.includes('car') ? 'car' : names[0]!;
  const versus = names.includes('bus') ? 'bus' : (names.find((n) => n !== asked) ?? asked);
  return {
    // A classifier has no score cells over the image, so no region to ask about.
    ...(engine.explainsRegions ? { why1: () => engine.explain(frame, { maxTargets: 0, why: [{ label: asked, box }] }) } : {}),
    // The drive's first detections are cars, so the first target is contrastive.
    versusK1: () => engine.explain(frame, { minScore: 0, perDetection: true, maxTargets: 1, versus }),
  };
}
