import * as tf from '@tensorflow/tfjs-core';
import type { GradientWeights, SumWeights } from '../method.js';

/** XGrad-CAM (Fu et al. 2020): w_k = Σ_ij A_k,ij / (Σ_ab A_k,ab + ε) · ∂S/∂A_k,ij. */
export const xgradcamWeights: GradientWeights = (A, G) =>
  tf.tidy(() => xgradcamFromSums.finish(A, tf.sum(tf.mul(A, G), [1, 2]) as tf.Tensor2D));

/** The same weights from Σ_ij A ⊙ ∂S/∂A. */
export const xgradcamFromSums: SumWeights = {
  weighting: 'activation',
  finish: (A, sums) => tf.tidy(() => tf.divNoNan(sums, tf.add(tf.sum(A, [1, 2]), 1e-7)) as tf.Tensor2D),
};
