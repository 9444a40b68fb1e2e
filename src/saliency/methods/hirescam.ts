// HiResCAM (Draelos & Carin 2020), the element-wise form ODAM (Zhao et al. 2023) uses for detectors:
// map = ReLU(Σ_c A ⊙ ∂S/∂A). No channel pooling, so the map stays where the score's gradient is: an instance's
// own cells rather than every place the class's channels fire (what a region or a single detection needs).
import * as tf from '@tensorflow/tfjs-core';
import { singleLayerCam } from '../method.js';

export const hirescam = singleLayerCam('hirescam', (A, ctx, layer, targets) => tf.relu(tf.sum(tf.mul(A, ctx.gradients([layer], targets)[0]!), 3)) as tf.Tensor3D);
