// The method registry: capability flags up front, so callers can validate before any work. It imports only
// the method files (never settings or types), so settings can take the method names from it without a circle.
import * as tf from '@tensorflow/tfjs-core';
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
 * The registry: one row per method, keyed by its name. The names (settings' enum, the CLI's choices, the
 * `set` command's checks) come from these keys, so a new method is its own file plus one row here.
 * Parameters (PolyCAM's variant) reach the row's factory. The first row is listed first everywhere.
 */
const REGISTRY = {
  xgradcam: () => gradientCam('xgradcam', xgradcamWeights, xgradcamFromSums),
  gradcam: () => gradientCam('gradcam', gradcamWeights, gradcamFromSums),
  'gradcam++': () => gradientCam('gradcam++', gradcamppWeights),
  eigencam: () => eigencam,
  polycam: (variant) => polycam(variant),
  xpolycam: () => xpolycam,
  cam: () => cam,
} as const satisfies Record<string, (polycamVariant: PolycamVariant) => CamMethod>;

export type CamMethodName = keyof typeof REGISTRY;

/** Every method name, in the registry's order (a non-empty tuple, as zod's enum wants). */
export const CAM_METHODS = Object.keys(REGISTRY) as [CamMethodName, ...CamMethodName[]];

export function camMethod(name: CamMethodName, polycamVariant: PolycamVariant = 'plus'): CamMethod {
  return REGISTRY[name](polycamVariant);
}

/** Methods fast enough for live video (the dashboard plays with these; the others explain a paused frame). */
export const REALTIME_METHODS: readonly CamMethodName[] = CAM_METHODS.filter((n) => camMethod(n).realtime);

/** What a model offers the methods: PolyCAM's layers, and a classifier's dense-layer weights. */
export interface MethodSupport {
  readonly polyLayers: readonly string[];
  readonly camWeights?: unknown;
}

/** The methods a model can run, from the capability flags (the dashboard offers only these). */
export function methodsFor(model: MethodSupport): CamMethodName[] {
  return CAM_METHODS.filter((n) => {
    const m = camMethod(n);
    return (!m.multiLayer || model.polyLayers.length >= 2) && (!m.needsClassWeights || model.camWeights !== undefined);
  });
}
