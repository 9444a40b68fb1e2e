import * as tf from '@tensorflow/tfjs-core';
import type { GradientWeights } from '../method.js';

/** Grad-CAM (Selvaraju et al. 2017): w_k = mean_ij ∂S/∂A_k,ij. */
export const gradcamWeights: GradientWeights = (_A, G) => tf.mean(G, [1, 2]) as tf.Tensor2D;
