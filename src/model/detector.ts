// The detector adapter: everything saliencam needs to know about a model, so the CAM code needs none.
import type * as tf from '@tensorflow/tfjs-core';
import type { Box, Detection, Frame } from '../types.js';
import type { LoadedGraph } from './load.js';
import type { ScoreCells, SumWeighting } from './score-cells.js';

export type { ScoreCells, SumWeighting };

/** A detection plus where its class score lives in the score node's output (for CAM targets). */
export interface DetectedObject extends Detection {
  /** Where the score lives: [score node index, ...gatherND index into that node's row (batch axis removed)]. */
  scoreIndices: number[][];
}

/**
 * An adapter's exact shortcut for per-channel gradient sums at one layer, from tensors the forward pass
 * computed, with no backward pass (CenterNet's: centernet-adjoint.ts). It must equal the backward pass up to
 * float rounding (test/saliency-fast-gradients.test.ts, scripts/exactness.mjs).
 */
export interface GradientShortcut {
  /** Nodes the frame's forward pass must fetch for `sums`, besides the layer itself. */
  readonly fetches: readonly string[];
  /** Σ_ij W_ijc ∂S_k/∂A_ijc for each target k and channel c: [K,C]. `fetched` gives the forward's tensors by name. */
  sums(fetched: (name: string) => tf.Tensor, targets: readonly ScoreCells[], weighting: SumWeighting): tf.Tensor2D;
  /** Frees what it keeps across frames. */
  dispose(): void;
}

export interface Detector {
  readonly name: string;
  readonly classNames: readonly string[];
  readonly graph: LoadedGraph;
  readonly inputName: string;
  /** Pre-activation class scores (one node per head level); CAM targets read these. */
  readonly scoreNodes: readonly string[];
  /** How the head turns scores into probabilities (PolyCAM scores masked inputs in probability space). */
  readonly scoreActivation: 'sigmoid' | 'none';
  /** Feature layer for single-layer CAMs; chosen for the best localisation measured on driving stills. */
  readonly camLayer: string;
  /** PolyCAM / XPolyCAM layers, ordered from low to high spatial resolution. */
  readonly polyLayers: readonly string[];
  /** Nodes whose outputs `decode` needs, fetched in the same forward pass as the CAM activations. */
  readonly decodeNodes: readonly string[];
  /** Frame → model input batch of one (runs inside a tidy). */
  preprocess(frame: Frame): tf.Tensor4D;
  /** Resize/normalise an already-sized RGB batch [n,h,w,3] (0-255) the way preprocess does, for perturbed inputs. */
  normalise(rgb: tf.Tensor4D): tf.Tensor4D;
  readonly inputSize: { width: number; height: number };
  /** Set when preprocess is a stretched bilinear resize (`resizedFrame`) to inputSize: the audit then perturbs at that size. */
  readonly inputResize?: { halfPixelCenters: boolean };
  /**
   * Decode the `decodeNodes` outputs (batch row 0) into detections in source pixels, after NMS. `classes` (the
   * labels asked for) lets a classifier return those classes even when they are not among its top scores.
   */
  decode(outputs: tf.Tensor[], frameWidth: number, frameHeight: number, minScore: number, classes?: readonly string[]): Promise<DetectedObject[]>;
  /**
   * For CAM (Zhou et al.): the dense layer after global average pooling, as a Const node holding its kernel
   * [C, K] ([K, C] when `transposed`), and the feature map [1,h,w,C] that the pooling reduces.
   */
  readonly camWeights?: { layer: string; weights: string; transposed: boolean };
  /** The same score cell for another class (contrastive targets: score(a) − score(b) at a detection's cells). */
  withClass?(scoreIndex: readonly number[], classId: number): number[];
  /**
   * Region targets ("why not here"): the best score of `classId` (probability, before any threshold) among the
   * score cells whose centres fall in `box` (source pixels), read from the `decodeNodes` outputs; the cell
   * nearest the box's centre when none does. Absent for models without spatial score cells (classifiers).
   */
  regionBest?(outputs: tf.Tensor[], box: Box, classId: number, frameWidth: number, frameHeight: number): Promise<RegionBest>;
  /**
   * The exact gradient-sum shortcut at `layer`, when the head allows one (absent or undefined: the backward
   * pass runs). Asked once per layer; the caller disposes what it gets.
   */
  gradientShortcut?(layer: string): GradientShortcut | undefined;
}

/** The best-scoring cell of a class in a region. */
export interface RegionBest {
  score: number;
  /** As DetectedObject.scoreIndices' entries. */
  scoreIndex: number[];
  /** Score cells whose centres fall in the region (0: the nearest cell was taken). */
  cells: number;
}
