import * as tf from '@tensorflow/tfjs-core';
import type { SumWeights } from '../method.js';

/** Grad-CAM (Selvaraju et al. 2017): w_k = mean_ij ∂S/∂A_k,ij, i.e. Σ_ij ∂S/∂A over the layer's h·w cells. */
export const gradcam: SumWeights = {
  weighting: 'ones',
  finish: (A, sums) => tf.div(sums, A.shape[1] * A.shape[2]) as tf.Tensor2D,
};
