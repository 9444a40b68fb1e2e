// Input-gradient kernels for the WASM backend, built from forward convolutions.
//
// WASM has no DepthwiseConv2dNativeBackpropInput, and its Conv2DBackpropInput is a plain loop ~10x slower than
// the forward conv. Both equal a stride-1 forward conv of the (zero-dilated, padded) output gradient with the
// spatially reversed filter (channels swapped for the dense conv), which WASM runs with XNNPACK.
import * as tf from '@tensorflow/tfjs-core';

type Pad = 'valid' | 'same' | number | number[] | { type: string };

interface BackpropAttrs {
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
  inputShape: [number, number, number, number];
  dataFormat?: string;
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : v;
}

/** Top/left padding the forward conv used along one axis. */
function leadingPad(pad: Pad, axis: 0 | 1, inSize: number, outSize: number, k: number, s: number): number {
  if (pad === 'valid') return 0;
  if (pad === 'same') return Math.floor(Math.max((outSize - 1) * s + k - inSize, 0) / 2);
  if (typeof pad === 'number') return pad;
  if (Array.isArray(pad)) {
    // explicit paddings: [[0,0],[top,bottom],[left,right],[0,0]] flattened, or [[t,b],[l,r]]
    const flat = pad.flat(2) as number[];
    return flat.length === 8 ? flat[2 + axis * 2]! : flat[axis * 2]!;
  }
  throw new Error(`unsupported padding ${JSON.stringify(pad)}`);
}

/**
 * dx of a conv whose forward was `x ⋆ f` with the given stride/padding, as a stride-1 VALID correlation:
 * dilate dy by the stride, pad it by (k-1-p) before and enough after, correlate with the reversed filter.
 */
function inputGradient(
  dy: tf.Tensor4D,
  reversedFilter: tf.Tensor4D,
  attrs: BackpropAttrs,
  k: [number, number],
  conv: (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor4D {
  const [, inH, inW] = attrs.inputShape;
  const [sh, sw] = pair(attrs.strides, 1);
  const [dh, dw] = pair(attrs.dilations, 1);
  if (dh !== 1 || dw !== 1) throw new Error('dilated convolutions are not supported by the WASM input-gradient kernel');
  const [n, outH, outW, c] = dy.shape;
  let g = dy;
  if (sh > 1 || sw > 1) {
    // Insert (stride-1) zeros between gradient cells: [n,oh,1,ow,1,c] padded to [n,oh,sh,ow,sw,c].
    const r = tf.reshape(dy, [n, outH, 1, outW, 1, c]);
    const p = tf.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    g = tf.slice(tf.reshape(p, [n, outH * sh, outW * sw, c]) as tf.Tensor4D, [0, 0, 0, 0], [n, (outH - 1) * sh + 1, (outW - 1) * sw + 1, c]);
  }
  const pt = leadingPad(attrs.pad, 0, inH, outH, k[0], sh);
  const pl = leadingPad(attrs.pad, 1, inW, outW, k[1], sw);
  const before: [number, number] = [k[0] - 1 - pt, k[1] - 1 - pl];
  const after: [number, number] = [inH + pt - g.shape[1], inW + pl - g.shape[2]];
  // Negative amounts mean the forward conv ignored trailing input rows: crop instead of pad.
  const padded = tf.pad(g, [[0, 0], [Math.max(before[0], 0), Math.max(after[0], 0)], [Math.max(before[1], 0), Math.max(after[1], 0)], [0, 0]]);
  const cropped = tf.slice(
    padded,
    [0, Math.max(-before[0], 0), Math.max(-before[1], 0), 0],
    [n, padded.shape[1] - Math.max(-before[0], 0) - Math.max(-after[0], 0), padded.shape[2] - Math.max(-before[1], 0) - Math.max(-after[1], 0), c],
  );
  return conv(cropped, reversedFilter);
}

let registered = false;

export function registerWasmGradientKernels(): void {
  if (registered) return;
  registered = true;

  tf.registerKernel({
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      const a = attrs as unknown as BackpropAttrs;
      const [kh, kw, , mult] = filter.shape;
      if (mult !== 1) throw new Error('depthwise input gradient with channel multiplier > 1 is not supported on WASM');
      return tf.tidy(() =>
        inputGradient(dy, tf.reverse(filter, [0, 1]), a, [kh, kw], (x, f) => tf.depthwiseConv2d(x, f, 1, 'valid')),
      );
    },
  });

  // Replace WASM's slow loop with the forward-conv formulation.
  tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      const a = attrs as unknown as BackpropAttrs;
      if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropInput: only NHWC is supported on WASM');
      const [kh, kw] = filter.shape;
      return tf.tidy(() =>
        inputGradient(dy, tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]), a, [kh, kw], (x, f) => tf.conv2d(x, f, 1, 'valid')),
      );
    },
  });
}
