// model.json's weightsManifest checked before anything is read or allocated from it: a malformed entry (a
// shape that is not a list of sizes, a null, an unknown dtype) is the model's fault, said in one line, and
// the bytes it declares in all are capped, as they size the buffer the shards are read into.
import type * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import { quoted } from './model-files.js';

export interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** Bytes per element of the dtypes a GraphModel's weights (or their quantised form) may have. */
export const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2, complex64: 8 };
const QUANTISED = new Set(['uint8', 'uint16', 'float16']);

/** More weights than this is not a model saliencam can run in one process. */
export const MAX_WEIGHTS_BYTES = 2 * 1024 ** 3;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function checkManifest(manifest: unknown, path: string): WeightsGroup[] {
  const bad = (where: string, why: string): UserError => new UserError(`model ${path}: weightsManifest${where} is malformed (${why})`);
  if (!Array.isArray(manifest)) throw bad('', 'not a list');
  let total = 0;
  manifest.forEach((group: unknown, g) => {
    if (!isObject(group)) throw bad(`[${g}]`, 'not an object');
    if (!Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string')) throw bad(`[${g}].paths`, 'not a list of file names');
    if (!Array.isArray(group.weights)) throw bad(`[${g}].weights`, 'not a list');
    group.weights.forEach((w: unknown, i) => {
      const where = `[${g}].weights[${i}]`;
      if (!isObject(w)) throw bad(where, 'not an object');
      if (typeof w.name !== 'string') throw bad(where, 'no name');
      if (!Array.isArray(w.shape) || !w.shape.every(isSize)) throw bad(`${where}.shape`, 'not a list of sizes');
      if (typeof w.dtype !== 'string' || !(w.dtype in DTYPE_BYTES)) throw bad(`${where}.dtype`, `${typeof w.dtype === 'string' ? quoted(w.dtype) : 'none'} is not a weight type saliencam reads`);
      const q = w.quantization;
      if (q !== undefined && (!isObject(q) || typeof q.dtype !== 'string' || !QUANTISED.has(q.dtype))) throw bad(`${where}.quantization`, 'not uint8, uint16 or float16');
      const elements = (w.shape as number[]).reduce((a, b) => a * b, 1);
      total += elements * DTYPE_BYTES[(q?.dtype as string | undefined) ?? w.dtype]!;
      if (!(total <= MAX_WEIGHTS_BYTES)) throw new UserError(`model ${path}: its weightsManifest declares more than ${MAX_WEIGHTS_BYTES / 1024 ** 3} GiB of weights`);
    });
  });
  return manifest as WeightsGroup[];
}
