// The method registry: capability flags up front, so callers can validate before any work.
import * as tf from '@tensorflow/tfjs-core';
import type { CamMethodName } from '../../types.js';
import { gradientCam, type CamMethod } from '../method.js';
import { eigencamMap } from './eigencam.js';
import { gradcamFromSums, gradcamWeights } from './gradcam.js';
import { gradcamppWeights } from './gradcampp.js';
import { polycam, type PolycamVariant } from './polycam.js';
import { cam } from './cam.js';
import { xgradcamFromSums, xgradcamWeights } from './xgradcam.js';
import { xpolycam } from './xpolycam.js';

const eigencam: CamMethod = {
  name: 'eigencam',
  needsGradients: false,
  multiLayer: false,
  realtime: true,
  classAgnostic: true,
  needsClassWeights: false,
  compute(ctx, layers, targets) {
    return tf.tidy(() => {
      const map = eigencamMap(ctx.activation(layers[0]!));
      return tf.stack(targets.map(() => map)) as tf.Tensor3D;
    });
  },
};

/**
 * The registry: one row per method name (the type makes a missing or misspelt row a compile error). A new
 * method is its own file plus one row here. Parameters (PolyCAM's variant) reach the row's factory.
 */
const REGISTRY: { readonly [N in CamMethodName]: (polycamVariant: PolycamVariant) => CamMethod } = {
  xgradcam: () => gradientCam('xgradcam', xgradcamWeights, xgradcamFromSums),
  gradcam: () => gradientCam('gradcam', gradcamWeights, gradcamFromSums),
  'gradcam++': () => gradientCam('gradcam++', gradcamppWeights),
  eigencam: () => eigencam,
  polycam: (variant) => polycam(variant),
  xpolycam: () => xpolycam,
  cam: () => cam,
};

export function camMethod(name: CamMethodName, polycamVariant: PolycamVariant = 'plus'): CamMethod {
  return REGISTRY[name](polycamVariant);
}

/** Methods fast enough for live video (the dashboard plays with these; the others explain a paused frame). */
export const REALTIME_METHODS: readonly CamMethodName[] = (Object.keys(REGISTRY) as CamMethodName[]).filter((n) => camMethod(n).realtime);

/** What a model offers the methods: PolyCAM's layers, and a classifier's dense-layer weights. */
export interface MethodSupport {
  readonly polyLayers: readonly string[];
  readonly camWeights?: unknown;
}

/** The methods a model can run, from the capability flags (the dashboard offers only these). */
export function methodsFor(model: MethodSupport): CamMethodName[] {
  return (Object.keys(REGISTRY) as CamMethodName[]).filter((n) => {
    const m = camMethod(n);
    return (!m.multiLayer || model.polyLayers.length >= 2) && (!m.needsClassWeights || model.camWeights !== undefined);
  });
}
