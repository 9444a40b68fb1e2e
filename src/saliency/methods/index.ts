// The method registry: capability flags up front, so callers can validate before any work. It imports only
// the method files and zod (never settings or types), so settings can take the method names from it without a circle.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { gradientCam, sumCam, type CamMethod } from '../method.js';
import { eigencamMap } from './eigencam.js';
import { gradcam } from './gradcam.js';
import { gradcamppWeights } from './gradcampp.js';
import { polycam, polycamParams } from './polycam.js';
import { cam } from './cam.js';
import { xgradcam } from './xgradcam.js';
import { xpolycam } from './xpolycam.js';
import { hirescam } from './hirescam.js';

const eigencam: CamMethod = {
  name: 'eigencam',
  needsGradients: false,
  multiLayer: false,
  realtime: true,
  classAgnostic: true,
  needsClassWeights: false,
  async compute(ctx, layers, targets) {
    const map = await eigencamMap(ctx.activation(layers[0]!));
    try {
      return tf.stack(targets.map(() => map)) as tf.Tensor3D;
    } finally {
      map.dispose();
    }
  },
};

/** A registry row: how to make the method, and the schema of its own parameters if it has any. */
interface MethodRow<P extends z.ZodObject = z.ZodObject> {
  /** The method's parameters, every one with its default and bounds (settings nest them under `methodParams.<name>`). */
  readonly params?: P;
  create(params: z.output<P>): CamMethod;
}

/** A row for a method with parameters: `create` gets them parsed (defaults filled in). */
function withParams<P extends z.ZodObject>(params: P, create: (p: z.output<P>) => CamMethod): MethodRow<P> & { readonly params: P } {
  return { params, create };
}

/**
 * The registry: one row per method, keyed by its name. The names (settings' enum, the CLI's choices, the
 * `set` command's checks) come from these keys, and a row's `params` schema becomes the settings'
 * `methodParams.<name>` (and its flags, `--<name>-<param>`), so a new method is its own file plus one row here.
 * The first row is listed first everywhere.
 */
const REGISTRY = {
  xgradcam: { create: () => sumCam('xgradcam', xgradcam) },
  gradcam: { create: () => sumCam('gradcam', gradcam) },
  'gradcam++': { create: () => gradientCam('gradcam++', gradcamppWeights) },
  eigencam: { create: () => eigencam },
  polycam: withParams(polycamParams, (p) => polycam(p.variant)),
  xpolycam: { create: () => xpolycam },
  cam: { create: () => cam },
  hirescam: { create: () => hirescam },
} as const satisfies Record<string, MethodRow>;

type Registry = typeof REGISTRY;
export type CamMethodName = keyof Registry;

/** Every method name, in the registry's order (a non-empty tuple, as zod's enum wants). */
export const CAM_METHODS = Object.keys(REGISTRY) as [CamMethodName, ...CamMethodName[]];

/** What explains when nothing is asked for: XGrad-CAM (exact and as cheap as a forward pass on CenterNet). */
export const DEFAULT_METHOD: CamMethodName = 'xgradcam';

/** What an audit compares when no methods are given: the methods cheap enough for a whole drive. */
export const METHODS_AUDITED_BY_DEFAULT: readonly CamMethodName[] = ['xgradcam', 'gradcam', 'gradcam++', 'eigencam', 'xpolycam'];

/** The methods that declare parameters, each with its parameter schema. */
export type MethodParamSchemas = { [N in CamMethodName as Registry[N] extends { params: z.ZodObject } ? N : never]: Registry[N] extends { params: infer P } ? P : never };
export const METHOD_PARAM_SCHEMAS = Object.fromEntries(
  Object.entries(REGISTRY).flatMap(([name, row]) => ('params' in row ? [[name, row.params]] : [])),
) as MethodParamSchemas;

/** Parameters by method name (each method with parameters has its own object; defaults filled in). */
export type MethodParams = { [N in keyof MethodParamSchemas]: z.output<MethodParamSchemas[N]> };

/** The method, made with its parameters from `params[name]` (missing ones take their defaults; bad ones throw a ZodError). */
export function camMethod(name: CamMethodName, params: Partial<MethodParams> = {}): CamMethod {
  const row: MethodRow = REGISTRY[name];
  return row.create(row.params ? row.params.parse((params as Record<string, unknown>)[name] ?? {}) : {});
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
