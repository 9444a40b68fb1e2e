// The public shape of a saliency map: the normalised values, the raw map they came from, and a resize helper.
import { resampleBilinear } from '../render/combine.js';
import type { SaliencyMap } from '../types.js';

export interface ExplanationMap {
  /** Class label the map explains. */
  label: string;
  /** The class's index in the model's output (`classNames[classId] === label`). */
  classId: number;
  /** Set in per-detection mode: the index of the explained detection in `record.detections`. */
  detectionIndex?: number;
  /** The CAM layer's resolution (the map covers the whole image). */
  width: number;
  height: number;
  /** width · height values, row-major, min-max normalised to [0, 1] (what the overlays draw). */
  values: Float32Array;
  /** The method's map before normalisation (same layout): compare maps across frames or methods with these. */
  raw: Float32Array;
  /** Bilinear resize (pixel centres aligned) of `values`, or of `raw`, to width × height: e.g. the image's size. */
  upsample(width: number, height: number, which?: 'values' | 'raw'): Float32Array;
}

export function publicMap(m: SaliencyMap): ExplanationMap {
  if (!m.raw) throw new Error(`map "${m.label}" has no raw values`);
  const raw = m.raw;
  return {
    label: m.label,
    classId: m.classId,
    ...(m.detectionIndex !== undefined ? { detectionIndex: m.detectionIndex } : {}),
    width: m.width,
    height: m.height,
    values: m.data,
    raw,
    upsample(width: number, height: number, which: 'values' | 'raw' = 'values'): Float32Array {
      if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1)) {
        throw new RangeError(`upsample: ${width}x${height} is not a size in whole pixels`);
      }
      return resampleBilinear({ ...m, data: which === 'raw' ? raw : m.data }, width, height);
    },
  };
}
