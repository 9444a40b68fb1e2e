import * as tf from '@tensorflow/tfjs-core';
import { weightsFromGradients, type CamMethod } from '../method.js';
import { fuseLayers } from '../lnorm.js';
import { weightedSum } from '../normalise.js';
import { xgradcam } from './xgradcam.js';

const xgradcamWeights = weightsFromGradients(xgradcam);

/**
 * XPolyCAM: XGrad-CAM maps at every PolyCAM layer (gradients from one backward pass), fused from low to high
 * resolution with PolyCAM's local normalisation: PolyCAM's sharpness at the cost of one backward pass.
 */
export const xpolycam: CamMethod = {
  name: 'xpolycam',
  needsGradients: true,
  multiLayer: true,
  realtime: true,
  classAgnostic: false,
  needsClassWeights: false,
  compute(ctx, layers, targets) {
    return tf.tidy(() => {
      const grads = ctx.gradients(layers, targets);
      const maps = layers.map((layer, i) => {
        const A = ctx.activation(layer);
        return weightedSum(A, xgradcamWeights(A, grads[i]!));
      });
      return fuseLayers(maps);
    });
  },
};
