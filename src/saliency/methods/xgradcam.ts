import * as tf from '@tensorflow/tfjs-core';
import type { SumWeights } from '../method.js';

/** XGrad-CAM (Fu et al. 2020): w_k = Σ_ij A_k,ij / (Σ_ab A_k,ab + ε) · ∂S/∂A_k,ij, from Σ_ij A ⊙ ∂S/∂A. */
export const xgradcam: SumWeights = {
  weighting: 'activation',
  finish: (A, sums) => tf.tidy(() => tf.divNoNan(sums, tf.add(tf.sum(A, [1, 2]), 1e-7)) as tf.Tensor2D),
};
