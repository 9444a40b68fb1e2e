// HiResCAM (Draelos & Carin 2020), the element-wise form ODAM (Zhao et al. 2023) uses for detectors:
// map = ReLU(Σ_c A ⊙ ∂S/∂A). No channel pooling, so the map stays where the score's gradient is: an instance's
// own cells rather than every place the class's channels fire (what a region or a single detection needs).
import * as tf from '@tensorflow/tfjs-core';
import type { CamMethod } from '../method.js';

export const hirescam: CamMethod = {
  name: 'hirescam',
  needsGradients: true,
  multiLayer: false,
  realtime: true,
  classAgnostic: false,
  needsClassWeights: false,
  compute(ctx, layers, targets) {
    const layer = layers[0]!;
    return tf.tidy(() => {
      const [G] = ctx.gradients([layer], targets);
      return tf.relu(tf.sum(tf.mul(ctx.activation(layer), G!), 3)) as tf.Tensor3D;
    });
  },
};
