// CAM targets: weighted sums of score cells (model/detector.ts ScoreCells), plus what they explain; one form,
// read both as a differentiable score (`targetScore`) and by a detector's gradient shortcut. A class target sums
// the scores of that class's detections;
// a detection target is that one box's score; a region target ("why not here") the class's best cell in a box;
// a contrastive target ("why a rather than b") score(a) − score(b) at a detection's cells.
import * as tf from '@tensorflow/tfjs-core';
import type { ScoreCells } from '../model/score-cells.js';

/** One batch row (batch axis kept, size 1) of each score node's output. */
export type ScoreRows = tf.Tensor[];

export interface CamTarget extends ScoreCells {
  label: string;
  classId: number;
  /** Set for per-detection targets: index into the frame's detections. */
  detectionIndex?: number;
  /** Set for region targets: the box (source pixels) whose best cell is explained. */
  region?: [number, number, number, number];
  /** Set for contrastive targets: the class whose score at the same cells is subtracted. */
  versus?: string;
}

/** A target's score on one batch row of the score nodes' outputs. */
export function targetScore(t: ScoreCells, rows: ScoreRows): tf.Scalar {
  return gatheredScore(t.cells, t.cellWeights)(rows);
}

/**
 * Sum of the rows' values at [node, ...index] positions. Built from slices: TF.js has no gradient for
 * GatherNd, and a slice's gradient (a pad) is cheap for the few cells a detection has.
 */
export function gatheredScore(indices: readonly (readonly number[])[], weights?: readonly number[]): (rows: ScoreRows) => tf.Scalar {
  return (rows) => {
    const parts = indices.map(([node, ...idx], i) => {
      const v = tf.reshape(tf.slice(rows[node!]!, [0, ...idx], [1, ...idx.map(() => 1)]), []);
      const w = weights?.[i] ?? 1;
      return w === 1 ? v : tf.mul(v, w);
    });
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
  }));
}

export function detectionTargets(detections: readonly TargetSource[]): CamTarget[] {
  return detections.map((d, i) => ({ label: d.label, classId: d.classId, detectionIndex: i, cells: d.scoreIndices }));
}

/** The class's best cell in a region (model/region.ts found it): a one-cell target marked with its box. */
export function regionTarget(label: string, classId: number, region: [number, number, number, number], scoreIndex: number[]): CamTarget {
  return { label, classId, region, cells: [scoreIndex] };
}

/**
 * Per detection, score(its class) − score(`versus`) at its cells; `sameCell` gives a cell's index for another
 * class. A detection of the `versus` class itself keeps its plain target (a difference with itself is zero).
 */
export function contrastTargets(
  detections: readonly TargetSource[],
  versus: { label: string; classId: number },
  sameCell: (scoreIndex: readonly number[], classId: number) => number[],
): CamTarget[] {
  return detectionTargets(detections).map((t, i) => {
    if (t.classId === versus.classId) return t;
    const own = detections[i]!.scoreIndices;
    const cells = [...own, ...own.map((idx) => sameCell(idx, versus.classId))];
    const cellWeights = cells.map((_, j) => (j < own.length ? 1 : -1));
    return { ...t, versus: versus.label, cells, cellWeights };
  });
}

/** Σ_k target_k(row k): one scalar whose gradient w.r.t. a K-row batch gives each row its own target's gradient. */
export function batchedScore(heads: tf.Tensor[], targets: CamTarget[]): tf.Scalar {
  const scores = targets.map((t, k) => targetScore(t, heads.map((h) => tf.slice(h, k, 1))));
  return scores.length === 1 ? scores[0]! : (tf.addN(scores) as tf.Scalar);
}
