// CAM targets: plain functions from one batch row of the score nodes' outputs to a scalar (as in
// pytorch-grad-cam), plus what they explain. A class target sums the scores of that class's detections;
// a detection target is that one box's score.
import * as tf from '@tensorflow/tfjs-core';

/** One batch row (batch axis kept, size 1) of each score node's output. */
export type ScoreRows = tf.Tensor[];

export interface CamTarget {
  label: string;
  classId: number;
  /** Set for per-detection targets: index into the frame's detections. */
  detectionIndex?: number;
  /** The score cells summed by `score` ([node, ...index], as DetectedObject.scoreIndices): fast gradient paths read them. */
  cells?: number[][];
  score: (rows: ScoreRows) => tf.Scalar;
}

/**
 * Sum of the rows' values at [node, ...index] positions. Built from slices: TF.js has no gradient for
 * GatherNd, and a slice's gradient (a pad) is cheap for the few cells a detection has.
 */
export function gatheredScore(indices: number[][]): (rows: ScoreRows) => tf.Scalar {
  return (rows) => {
    const parts = indices.map(([node, ...idx]) => tf.reshape(tf.slice(rows[node!]!, [0, ...idx], [1, ...idx.map(() => 1)]), []));
    return (parts.length === 1 ? parts[0]! : tf.addN(parts)) as tf.Scalar;
  };
}

/** What a target needs of a detection (DetectedObject has it; kept structural so methods need not import the model). */
export interface TargetSource {
  readonly label: string;
  readonly classId: number;
  readonly scoreIndices: number[][];
}

export function classTargets(detections: readonly TargetSource[]): CamTarget[] {
  const byClass = new Map<number, TargetSource[]>();
  for (const d of detections) byClass.set(d.classId, [...(byClass.get(d.classId) ?? []), d]);
  return [...byClass.values()].map((dets) => ({
    label: dets[0]!.label,
    classId: dets[0]!.classId,
    cells: dets.flatMap((d) => d.scoreIndices),
    score: gatheredScore(dets.flatMap((d) => d.scoreIndices)),
  }));
}

export function detectionTargets(detections: readonly TargetSource[]): CamTarget[] {
  return detections.map((d, i) => ({ label: d.label, classId: d.classId, detectionIndex: i, cells: d.scoreIndices, score: gatheredScore(d.scoreIndices) }));
}

/** Σ_k target_k(row k): one scalar whose gradient w.r.t. a K-row batch gives each row its own target's gradient. */
export function batchedScore(heads: tf.Tensor[], targets: CamTarget[]): tf.Scalar {
  const scores = targets.map((t, k) => t.score(heads.map((h) => tf.slice(h, k, 1))));
  return scores.length === 1 ? scores[0]! : (tf.addN(scores) as tf.Scalar);
}
