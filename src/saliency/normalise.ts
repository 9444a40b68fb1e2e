import * as tf from '@tensorflow/tfjs-core';

/**
 * Scale each of K maps, stored one after another in `data` (K·size values), to [0,1] by its own min and max (an
 * all-flat map becomes 0). On the host: the maps are downloaded once anyway, and K·h·w values are a few
 * microseconds of JavaScript against four kernel launches per frame.
 */
export function minMaxPerMap(data: Float32Array, k: number, size: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < k; i++) {
    const map = data.subarray(i * size, (i + 1) * size);
    let min = Infinity;
    let max = -Infinity;
    for (const v of map) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const range = max - min;
    const normed = new Float32Array(size);
    if (range > 0) for (let j = 0; j < size; j++) normed[j] = (map[j]! - min) / range;
    out.push(normed);
  }
  return out;
}

/** ReLU(Σ_c w_kc · A_kc): the class activation map from per-channel weights w [K,C] and activations A [K|1,h,w,C]. */
export function weightedSum(activations: tf.Tensor4D, weights: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [k, c] = weights.shape;
    if (activations.shape[0] === 1) {
      // One activation for all K maps: a fused 1×1 conv with K output channels (a fast kernel on every backend;
      // the broadcast product below would materialise [K,h,w,C] first).
      const maps = tf.fused.conv2d({ x: activations, filter: tf.reshape(tf.transpose(weights), [1, 1, c, k]) as tf.Tensor4D, strides: 1, pad: 'valid', activation: 'relu' });
      return tf.transpose(tf.squeeze(maps, [0]), [2, 0, 1]) as tf.Tensor3D;
    }
    const w = tf.reshape(weights, [k, 1, 1, c]);
    return tf.relu(tf.sum(tf.mul(activations, w), 3)) as tf.Tensor3D;
  });
}
