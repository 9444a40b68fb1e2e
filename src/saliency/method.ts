// The CAM base: what every method shares. A method supplies only its channel weights (or, for the
// gradient-free ones, its map); the context supplies activations, gradients and scoring, so the same
// method code runs on a real detector graph and on a toy model in tests.
import * as tf from '@tensorflow/tfjs-core';
import type { SumWeighting } from '../model/score-cells.js';
import type { CamTarget } from './targets.js';
import { weightedSum } from './normalise.js';

/** What a CAM method may ask of the model. Tensors it returns are owned by the caller. */
export interface CamContext {
  /** Activation of `layer` for the frame, batch 1 (owned by the context: do not dispose). */
  activation(layer: string): tf.Tensor4D;
  /** d(target k)/d(layer) for every layer, each [K,h,w,C], all from one backward pass. */
  gradients(layers: string[], targets: CamTarget[]): tf.Tensor4D[];
  /** Model input of the frame, batch 1 (owned by the context). */
  readonly input: tf.Tensor4D;
  /** Scores (probability space) of each target on each of a batch of model inputs: [B, K]. */
  scoreInputs(inputs: tf.Tensor4D, targets: CamTarget[]): tf.Tensor2D;
  /** CAM's class weights [K,C] for `layer`, read from the model's dense layer; absent when it has none. */
  classWeights?(layer: string, targets: CamTarget[]): tf.Tensor2D;
  /**
   * Σ_ij W ⊙ ∂S_k/∂A per channel, [K,C], with W the activation or ones: from the detector's gradient shortcut
   * where it has one (Detector.gradientShortcut), else `sumsOfGradients` over one backward pass.
   */
  gradientSums(layer: string, targets: CamTarget[], weighting: SumWeighting): tf.Tensor2D;
}

/** Σ_ij W ⊙ G per channel from activations [1,h,w,C] and gradients [K,h,w,C]: [K,C]. */
export function sumsOfGradients(A: tf.Tensor4D, G: tf.Tensor4D, weighting: SumWeighting): tf.Tensor2D {
  return tf.tidy(() => tf.sum(weighting === 'activation' ? tf.mul(A, G) : G, [1, 2]) as tf.Tensor2D);
}

/** Per-channel weights [K,C] from activations [1,h,w,C] and gradients [K,h,w,C]. */
export type GradientWeights = (A: tf.Tensor4D, G: tf.Tensor4D) => tf.Tensor2D;

export interface CamMethod {
  /** Its row's key in the registry (methods/index.ts), which is where the names' type comes from. */
  readonly name: string;
  readonly needsGradients: boolean;
  /** Uses several layers (the detector's polyLayers) instead of one. */
  readonly multiLayer: boolean;
  /** Fast enough for live video (one backward pass at most). */
  readonly realtime: boolean;
  /** Class-agnostic: every target gets the same map. */
  readonly classAgnostic: boolean;
  /** Scores batches of masked model inputs (needs a model that takes batches; the audit checks it). */
  readonly scoresBatches?: boolean;
  /** Reads class weights from the model's dense layer (classifiers only: `Detector.camWeights`). */
  readonly needsClassWeights: boolean;
  /** Non-negative maps [K,h,w] at the (highest) layer resolution, not yet normalised. */
  compute(ctx: CamContext, layers: string[], targets: CamTarget[]): tf.Tensor3D | Promise<tf.Tensor3D>;
}

/** Channel weights from gradient sums (CamContext.gradientSums): the whole definition of a method that needs no more. */
export interface SumWeights {
  weighting: SumWeighting;
  /** Weights [K,C] from the activation [1,h,w,C] and the sums [K,C]. */
  finish: (A: tf.Tensor4D, sums: tf.Tensor2D) => tf.Tensor2D;
}

/** The same weights from a gradient map (for the multi-layer methods, whose gradients come from one backward pass). */
export function weightsFromGradients(w: SumWeights): GradientWeights {
  return (A, G) => tf.tidy(() => w.finish(A, sumsOfGradients(A, G, w.weighting)));
}

/** A single-layer gradient CAM: the row every such method shares, and its map from the layer's activation. */
export function singleLayerCam(name: string, map: (A: tf.Tensor4D, ctx: CamContext, layer: string, targets: CamTarget[]) => tf.Tensor3D): CamMethod {
  return {
    name,
    needsGradients: true,
    multiLayer: false,
    realtime: true,
    classAgnostic: false,
    needsClassWeights: false,
    compute(ctx, layers, targets) {
      const layer = layers[0]!;
      return tf.tidy(() => map(ctx.activation(layer), ctx, layer, targets));
    },
  };
}

/** A single-layer gradient CAM whose channel weights are a function of the gradient sums alone. */
export function sumCam(name: string, w: SumWeights): CamMethod {
  return singleLayerCam(name, (A, ctx, layer, targets) => weightedSum(A, w.finish(A, ctx.gradientSums(layer, targets, w.weighting))));
}

/** A single-layer gradient CAM from its channel-weight function over the whole gradient map. */
export function gradientCam(name: string, weights: GradientWeights): CamMethod {
  return singleLayerCam(name, (A, ctx, layer, targets) => weightedSum(A, weights(A, ctx.gradients([layer], targets)[0]!)));
}
