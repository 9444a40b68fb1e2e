import * as tf from '@tensorflow/tfjs-core';
import type { GradientWeights } from '../method.js';

/**
 * Grad-CAM++ (Chattopadhay et al. 2018), with the usual exponential-score closed form:
 * α = g² / (2g² + Σ_ab A · g³), w_k = Σ_ij α · ReLU(g).
 */
export const gradcamppWeights: GradientWeights = (A, G) =>
  tf.tidy(() => {
    const g2 = tf.square(G);
    const g3 = tf.mul(g2, G);
    const sumA = tf.sum(A, [1, 2], true);
    const alpha = tf.divNoNan(g2, tf.add(tf.mul(g2, 2), tf.mul(sumA, g3)));
    return tf.sum(tf.mul(alpha, tf.relu(G)), [1, 2]) as tf.Tensor2D;
  });
