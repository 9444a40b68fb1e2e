// TF.js's bilinear resize, transposed: the exact adjoints a gradient shortcut needs where a head upsamples.
import * as tf from '@tensorflow/tfjs-core';

/** One axis of TF.js's bilinear resize: output index d reads `lo` with weight 1 − f and `hi` with weight f. */
function resizeAxis(alignCorners: boolean, halfPixelCenters: boolean, inSize: number, outSize: number) {
  const r = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  return (d: number) => {
    const src = halfPixelCenters ? r * (d + 0.5) - 0.5 : r * d;
    const lo = Math.max(0, Math.floor(src));
    return { lo, hi: Math.min(inSize - 1, Math.ceil(src)), f: src - lo };
  };
}

/**
 * The adjoint of ResizeBilinear ([1,H,W,C] → [1,h,w,C]), exact, as a few gathers per axis: WASM's
 * ResizeBilinearGrad kernel is a slow loop (about as long as the whole detector forward pass here). The integer
 * factors of CenterNet's neck take the strided conv of centernet-adjoint.ts (HeadAdjoint.maskTranspose) instead.
 */
export function resizeBilinearTranspose(dy: tf.Tensor4D, [h, w]: [number, number], alignCorners: boolean, halfPixelCenters: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const along = (t: tf.Tensor4D, axis: 1 | 2, inSize: number): tf.Tensor4D => {
      const outSize = t.shape[axis];
      const tap = resizeAxis(alignCorners, halfPixelCenters, inSize, outSize);
      // For each input index, the output indices that read it and with what weight.
      const lists: [number, number][][] = Array.from({ length: inSize }, () => []);
      for (let d = 0; d < outSize; d++) {
        const { lo, hi, f } = tap(d);
        lists[lo]!.push([d, 1 - f]);
        if (f !== 0) lists[hi]!.push([d, f]);
      }
      const m = Math.max(...lists.map((l) => l.length));
      let out: tf.Tensor4D | undefined;
      for (let j = 0; j < m; j++) {
        const idx = lists.map((l) => l[j]?.[0] ?? 0);
        const wt = Float32Array.from(lists.map((l) => l[j]?.[1] ?? 0));
        const shape: [number, number, number, number] = axis === 1 ? [1, inSize, 1, 1] : [1, 1, inSize, 1];
        const part = tf.mul(tf.gather(t, tf.tensor1d(idx, 'int32'), axis), tf.tensor4d(wt, shape)) as tf.Tensor4D;
        out = out ? (tf.add(out, part) as tf.Tensor4D) : part;
      }
      return out!;
    };
    return along(along(dy, 1, h), 2, w);
  });
}

/** Source cells and weights of a bilinear resize at the given output cells (y·W + x), as TF.js computes them. */
export function bilinearTaps(
  cells: number[],
  [inH, inW]: [number, number],
  [outH, outW]: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): { idx: number[]; weight: Float32Array }[] {
  const ay = resizeAxis(alignCorners, halfPixelCenters, inH, outH);
  const ax = resizeAxis(alignCorners, halfPixelCenters, inW, outW);
  const taps = [0, 1, 2, 3].map(() => ({ idx: new Array<number>(cells.length), weight: new Float32Array(cells.length) }));
  cells.forEach((cell, i) => {
    const y = ay(Math.floor(cell / outW));
    const x = ax(cell % outW);
    const corners: [number, number, number][] = [
      [y.lo, x.lo, (1 - y.f) * (1 - x.f)],
      [y.lo, x.hi, (1 - y.f) * x.f],
      [y.hi, x.lo, y.f * (1 - x.f)],
      [y.hi, x.hi, y.f * x.f],
    ];
    corners.forEach(([yy, xx, w], t) => {
      taps[t]!.idx[i] = yy * inW + xx;
      taps[t]!.weight[i] = w;
    });
  });
  return taps;
}

