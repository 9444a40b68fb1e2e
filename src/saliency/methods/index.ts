// The method registry: capability flags up front, so callers can validate before any work.
import * as tf from '@tensorflow/tfjs-core';
import type { CamMethodName } from '../../types.js';
import { gradientCam, type CamMethod } from '../method.js';
import { eigencamMap } from './eigencam.js';
import { gradcamFromSums, gradcamWeights } from './gradcam.js';
import { gradcamppWeights } from './gradcampp.js';
import { polycam, type PolycamVariant } from './polycam.js';
import { xgradcamFromSums, xgradcamWeights } from './xgradcam.js';
import { xpolycam } from './xpolycam.js';

const eigencam: CamMethod = {
  name: 'eigencam',
  needsGradients: false,
  multiLayer: false,
  realtime: true,
  classAgnostic: true,
  compute(ctx, layers, targets) {
    return tf.tidy(() => {
      const map = eigencamMap(ctx.activation(layers[0]!));
      return tf.stack(targets.map(() => map)) as tf.Tensor3D;
    });
  },
};

export function camMethod(name: CamMethodName, polycamVariant: PolycamVariant = 'plus'): CamMethod {
  switch (name) {
    case 'xgradcam':
      return gradientCam('xgradcam', xgradcamWeights, xgradcamFromSums);
    case 'gradcam':
      return gradientCam('gradcam', gradcamWeights, gradcamFromSums);
    case 'gradcam++':
      return gradientCam('gradcam++', gradcamppWeights);
    case 'eigencam':
      return eigencam;
    case 'xpolycam':
      return xpolycam;
    case 'polycam':
      return polycam(polycamVariant);
  }
}
