import * as tf from '@tensorflow/tfjs-core';

const POWER_ITERATIONS = 60;

/**
 * Eigen-CAM (Muhammad & Yeasin 2020): the activations (hw × C, centred per channel) projected on their first
 * principal component, found by power iteration on the C×C covariance. Gradient-free and class-agnostic.
 * The component's sign is arbitrary; it is chosen so the map correlates positively with the mean activation.
 */
export function eigencamMap(A: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [, h, w, c] = A.shape;
    const X = tf.reshape(A, [h * w, c]);
    const Xc = tf.sub(X, tf.mean(X, 0, true));
    const cov = tf.matMul(Xc, Xc, true, false);
    let v: tf.Tensor2D = tf.div(tf.ones([c, 1]), Math.sqrt(c));
    for (let i = 0; i < POWER_ITERATIONS; i++) {
      const next = tf.matMul(cov, v);
      v = tf.divNoNan(next, tf.norm(next)) as tf.Tensor2D;
    }
    let proj = tf.reshape(tf.matMul(Xc, v), [h, w]);
    const meanAct = tf.mean(X, 1);
    const sign = tf.sign(tf.sum(tf.mul(tf.reshape(proj, [-1]), tf.sub(meanAct, tf.mean(meanAct)))));
    proj = tf.mul(proj, tf.where(tf.equal(sign, 0), tf.onesLike(sign), sign));
    return tf.relu(proj) as tf.Tensor2D;
  });
}
