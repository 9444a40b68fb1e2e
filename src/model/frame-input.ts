// A decoded frame as a model input: bilinear resizing straight from the frame's 8-bit RGB to float32.
//
// Why not `tf.image.resizeBilinear(tf.cast(tf.tensor3d(rgb, …, 'int32')))`: that path widens the whole 720p frame
// to an 11 MB int32 array in JavaScript, copies it into the backend, casts it to float and only then resizes it.
// Sampling the 8-bit frame once per output value produces the same numbers (same sample positions and the same
// interpolation formula as TF.js' ResizeBilinear: identical for CenterNet's 512² of the sample drive, within
// float32 rounding, a few hundredths of a level, at other sizes; test/frame-input.test.ts) and saved 24–32 ms of the ~180 ms per CenterNet frame on WASM here (scratch
// comparison, interleaved on the 38 frames of test_video.mp4).
import * as tf from '@tensorflow/tfjs-core';
import type { Frame } from '../types.js';

/**
 * The frame resized to `width`x`height` (stretched), float32 [1,height,width,3], values 0–255. Sample positions
 * follow `tf.image.resizeBilinear` with alignCorners false and the given `halfPixelCenters`.
 */
export function resizedFrame(frame: Frame, width: number, height: number, halfPixelCenters = false): tf.Tensor4D {
  const { width: W, height: H, rgb } = frame;
  const out = scratchFor(width * height * 3);
  if (W === width && H === height) {
    out.set(rgb);
    return tf.tensor4d(out, [1, height, width, 3]);
  }
  const xs = samples(W, width, halfPixelCenters);
  const ys = samples(H, height, halfPixelCenters);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const r0 = ys.lo[y]! * W * 3;
    const r1 = ys.hi[y]! * W * 3;
    const wy = ys.frac[y]!;
    for (let x = 0; x < width; x++) {
      const c0 = xs.lo[x]! * 3;
      const c1 = xs.hi[x]! * 3;
      const wx = xs.frac[x]!;
      for (let c = 0; c < 3; c++) {
        const tl = rgb[r0 + c0 + c]!;
        const tr = rgb[r0 + c1 + c]!;
        const bl = rgb[r1 + c0 + c]!;
        const br = rgb[r1 + c1 + c]!;
        const top = tl + (tr - tl) * wx;
        const bottom = bl + (br - bl) * wx;
        out[o++] = top + (bottom - top) * wy;
      }
    }
  }
  return tf.tensor4d(out, [1, height, width, 3]);
}

let scratch: Float32Array | undefined;

/**
 * Where the resized values are written. WASM copies a new tensor's values into its own heap at once, so one
 * array serves every frame there (a fresh 3 MB array per frame is what drives the worker threads' major GCs);
 * the CPU and GPU backends keep a reference to the array they are given, so they get a new one each time.
 */
function scratchFor(length: number): Float32Array {
  if (tf.getBackend() !== 'wasm') return new Float32Array(length);
  if (scratch?.length !== length) scratch = new Float32Array(length);
  return scratch;
}

/** For each output index: the two source indices it blends and the weight of the second (TF.js' formula). */
function samples(inSize: number, outSize: number, halfPixelCenters: boolean) {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float32Array(outSize);
  // In float32, as the kernels compute them (in float64 the positions drift by a few ulps).
  const ratio = Math.fround(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    const f = halfPixelCenters ? Math.fround(Math.fround(ratio * (i + 0.5)) - 0.5) : Math.fround(ratio * i);
    const floor = Math.max(0, Math.floor(f));
    lo[i] = floor;
    hi[i] = Math.min(inSize - 1, Math.ceil(f));
    frac[i] = f - floor;
  }
  return { lo, hi, frac };
}
