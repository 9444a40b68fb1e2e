import * as tf from '@tensorflow/tfjs-core';
import { topEigenpair } from '../sym-eigen.js';

/**
 * Eigen-CAM (Muhammad & Yeasin 2020): the activations X (hw × C, centred per channel) projected on their first
 * principal component. Gradient-free and class-agnostic. The component comes from an exact eigendecomposition of
 * the smaller Gram matrix (C×C: Xᵀ X → v, the map is X v; or hw×hw: X Xᵀ → u, the map is u·√λ) on the host:
 * power iteration, used before, had not converged after its 60 steps when the top two components were nearly
 * tied. The component's sign is arbitrary; it is chosen so the map correlates positively with the mean activation.
 */
export async function eigencamMap(A: tf.Tensor4D): Promise<tf.Tensor2D> {
  const [, h, w, c] = A.shape;
  const n = h * w;
  const byCells = n < c;
  const [Xc, gram, meanAct] = tf.tidy(() => {
    const X = tf.reshape(A, [n, c]);
    const centred = tf.sub(X, tf.mean(X, 0, true)) as tf.Tensor2D;
    return [centred, tf.matMul(centred, centred, !byCells, byCells), tf.mean(X, 1)] as const;
  });
  try {
    const { value, vector } = topEigenpair((await gram.data()) as Float32Array, byCells ? n : c);
    let proj: Float32Array;
    if (byCells) {
      const s = Math.sqrt(Math.max(value, 0));
      proj = Float32Array.from(vector, (u) => u * s);
    } else {
      const p = tf.tidy(() => tf.matMul(Xc, tf.tensor2d(Float32Array.from(vector), [c, 1])));
      proj = (await p.data()) as Float32Array;
      p.dispose();
    }
    const mean = (await meanAct.data()) as Float32Array;
    let m = 0;
    for (const v of mean) m += v / n;
    let corr = 0;
    for (let i = 0; i < n; i++) corr += proj[i]! * (mean[i]! - m);
    const sign = corr < 0 ? -1 : 1;
    return tf.tensor2d(Float32Array.from(proj, (v) => Math.max(0, sign * v)), [h, w]);
  } finally {
    tf.dispose([Xc, gram, meanAct]);
  }
}
