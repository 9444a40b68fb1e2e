import * as tf from '@tensorflow/tfjs-core';
import type { GradientWeights, SumWeights } from '../method.js';

/** Grad-CAM (Selvaraju et al. 2017): w_k = mean_ij ∂S/∂A_k,ij. */
export const gradcamWeights: GradientWeights = (_A, G) => tf.mean(G, [1, 2]) as tf.Tensor2D;

/** The same weights from Σ_ij ∂S/∂A. */
export const gradcamFromSums: SumWeights = {
  weighting: 'ones',
  finish: (A, sums) => tf.div(sums, A.shape[1] * A.shape[2]) as tf.Tensor2D,
};
