// Gradients TF.js does not ship but converted detectors need. Ultralytics exports slice tensors with
// StridedSlice (the C2f split, the class rows of the head), and TF.js has no gradient for it.
import * as tf from '@tensorflow/tfjs-core';

interface StridedSliceAttrs {
  begin: number[];
  end: number[];
  strides: number[];
  beginMask: number;
  endMask: number;
  ellipsisMask: number;
  newAxisMask: number;
  shrinkAxisMask: number;
}

/** d/dx of a unit-stride StridedSlice: the output gradient padded back into x's shape with zeros. */
function stridedSliceGrad(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): { x: () => tf.Tensor } {
  const [x] = saved as [tf.Tensor];
  const a = attrs as unknown as StridedSliceAttrs;
  return {
    x: () => {
      const info = tf.slice_util.sliceInfo(x.shape, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
      if (a.newAxisMask || info.strides.some((s) => s !== 1)) throw new Error('gradient of StridedSlice with strides other than 1 or new axes is not implemented');
      const sizes = x.shape.map((_, i) => Math.max(0, info.end[i]! - info.begin[i]!));
      const paddings = x.shape.map((d, i) => [info.begin[i]!, d - info.begin[i]! - sizes[i]!] as [number, number]);
      return tf.pad(tf.reshape(dy as tf.Tensor, sizes), paddings);
    },
  };
}

let registered = false;

export function registerMissingGradients(): void {
  if (registered) return;
  registered = true;
  if (!tf.getGradient('StridedSlice')) tf.registerGradient({ kernelName: 'StridedSlice', inputsToSave: ['x'], gradFunc: stridedSliceGrad });
}
