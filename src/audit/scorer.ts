// Builds the ScoreBatch the perturbation metrics need from any batch detector.
import { matchedScore } from './box.js';
import type { Detection } from '../types.js';
import type { ScoreBatch } from './types.js';

/** Runs a detector on packed RGB24 images of one size; one detection list per image. */
export type DetectBatch = (images: Uint8Array[], width: number, height: number) => Promise<Detection[][]>;

/**
 * ScoreBatch for one detection: detect, then take the score of the same-class detection overlapping it by
 * IoU > minIou (0 when gone). Run the detector with a low score threshold here: a threshold turns a
 * gradually falling score into a cliff to 0 and distorts the curves.
 */
export function detectionScorer(detect: DetectBatch, target: Detection, minIou = 0.5): ScoreBatch {
  return async (images, width, height) => {
    const lists = await detect(images, width, height);
    if (lists.length !== images.length) throw new Error(`audit: detector returned ${lists.length} results for ${images.length} images`);
    return lists.map((dets) => matchedScore(dets, target, minIou));
  };
}
