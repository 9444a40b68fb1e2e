import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../errors.js';
import type { CamMethod } from '../method.js';
import { weightedSum } from '../normalise.js';

/**
 * CAM (Zhou et al. 2016) for classifiers that end in global average pooling + a dense layer: the class score is
 * Σ_c w_kc · mean(A_c) + b_k, so M_k = Σ_c w_kc · A_c is exactly where the score comes from. The weights are
 * the dense layer's, no gradient needed.
 */
export const cam: CamMethod = {
  name: 'cam',
  needsGradients: false,
  multiLayer: false,
  realtime: true,
  classAgnostic: false,
  needsClassWeights: true,
  compute(ctx, layers, targets) {
    if (!ctx.classWeights) throw new UserError('--method cam needs a classifier ending in global average pooling + dense; use xgradcam for detectors');
    const layer = layers[0]!;
    return tf.tidy(() => weightedSum(ctx.activation(layer), ctx.classWeights!(layer, targets)));
  },
};
