import * as tf from '@tensorflow/tfjs-core';

/** Scale each map of a [K,h,w] batch to [0,1] by its own min and max (an all-flat map becomes 0). */
export function minMaxPerMap(maps: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const min = tf.min(maps, [1, 2], true);
    const range = tf.sub(tf.max(maps, [1, 2], true), min);
    return tf.divNoNan(tf.sub(maps, min), range) as tf.Tensor3D;
  });
}

/** ReLU(Σ_c w_kc · A_kc): the class activation map from per-channel weights w [K,C] and activations A [K|1,h,w,C]. */
export function weightedSum(activations: tf.Tensor4D, weights: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [k, c] = weights.shape;
    const w = tf.reshape(weights, [k, 1, 1, c]);
    return tf.relu(tf.sum(tf.mul(activations, w), 3)) as tf.Tensor3D;
  });
}
