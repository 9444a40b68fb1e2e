// Image classifiers with global average pooling + one dense layer (ResNet, MobileNet, EfficientNet, … as TF.js
// GraphModels): one image in, class scores [1, K] out. The explained "detections" are the top classes, each with
// the whole image as its box; CAM (Zhou et al. 2016) reads its class weights from the dense layer.
import * as tf from '@tensorflow/tfjs-core';
import type { Frame } from '../types.js';
import type { DetectedObject, Detector } from './detector.js';
import { dynamicInputsOf, inputsOf, walkBackThrough, type GraphIndex } from './graph-walk.js';
import type { LoadedGraph } from './load.js';
import { resizedFrame } from './frame-input.js';

/** Classes explained when --classes is not given: the best few, those at or above --min-score, at least one. */
export const CLASSIFIER_TOP_K = 5;

export interface ClassifierLayout {
  inputName: string;
  inputSize: { width: number; height: number };
  /** Pre-softmax class scores [1, K] (the dense layer's output). */
  logits: string;
  /** True when the graph ends in a Softmax (decode reads probabilities, targets read logits). */
  softmax: boolean;
  /** Dense kernel (a Const node) and whether it is stored [K, C] (MatMul transpose_b). */
  denseWeights: string;
  transposed: boolean;
  /** The feature map that global average pooling reduces: CAM's layer. */
  featureLayer: string;
  decodeNode: string;
}

const MATMUL = new Set(['MatMul', '_FusedMatMul']);

/**
 * Find logits ← dense ← global average pooling ← feature map behind a classifier's output. Returns undefined
 * when the graph does not end that way.
 */
export function findClassifierHead(g: GraphIndex, outputNode: string): Omit<ClassifierLayout, 'inputName' | 'inputSize' | 'decodeNode'> | undefined {
  let node = outputNode;
  let softmax = false;
  // Output ← (Identity | Softmax | Reshape)* ← logits.
  for (let i = 0; i < 8; i++) {
    const op = g.byName.get(node)?.op;
    if (op === 'Softmax') softmax = true;
    if (!op || !['Identity', 'Softmax', 'Reshape', 'Squeeze'].includes(op)) break;
    const next = dynamicInputsOf(g, node);
    if (next.length !== 1) return undefined;
    node = next[0]!;
  }
  const logits = node;
  let matmul = logits;
  const op = g.byName.get(logits)?.op;
  if (op === 'BiasAdd' || op === 'AddV2' || op === 'Add') {
    const dyn = dynamicInputsOf(g, logits);
    if (dyn.length !== 1) return undefined;
    matmul = dyn[0]!;
  }
  const mm = g.byName.get(matmul);
  if (!mm || !MATMUL.has(mm.op)) return undefined;
  const [x, w] = inputsOf(g, matmul);
  if (!x || !w || g.dynamic.has(w) || g.byName.get(w)?.op !== 'Const') return undefined;
  const pools = walkBackThrough(g, x, new Set(['Reshape', 'Squeeze', 'Identity']));
  const pool = x && g.byName.get(x)?.op === 'Mean' ? x : pools.length === 1 ? pools[0]! : undefined;
  if (!pool || g.byName.get(pool)?.op !== 'Mean') return undefined;
  const feature = dynamicInputsOf(g, pool)[0];
  if (!feature) return undefined;
  return { logits, softmax, denseWeights: w, transposed: Boolean(mm.attr?.['transpose_b']?.b), featureLayer: feature };
}

export function classifierDetector(graph: LoadedGraph, l: ClassifierLayout, classNames: readonly string[]): Detector {
  const { width, height } = l.inputSize;
  return {
    name: 'classifier',
    classNames,
    graph,
    inputName: l.inputName,
    inputSize: l.inputSize,
    inputResize: { halfPixelCenters: true },
    scoreNodes: [l.logits],
    // Gradient targets are logits; PolyCAM's masked-input scores are logits too (softmax couples the classes).
    scoreActivation: 'none',
    camLayer: l.featureLayer,
    polyLayers: [],
    decodeNodes: [l.decodeNode],
    camWeights: { layer: l.featureLayer, weights: l.denseWeights, transposed: l.transposed },

    preprocess(frame: Frame): tf.Tensor4D {
      return tf.tidy(() => this.normalise(resizedFrame(frame, width, height, true)));
    },

    // RGB in [0, 1] at the model's input size (the TF Hub image convention); other conventions need an adapter.
    normalise(rgb: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy(() => {
        let f = tf.cast(rgb, 'float32') as tf.Tensor4D;
        if (f.shape[1] !== height || f.shape[2] !== width) f = tf.image.resizeBilinear(f, [height, width], false, true);
        return tf.div(f, 255) as tf.Tensor4D;
      });
    },

    withClass: ([node], classId) => [node!, classId],

    async decode(outputs, frameWidth, frameHeight, minScore, classes): Promise<DetectedObject[]> {
      let scores = Array.from((await outputs[0]!.data()) as Float32Array);
      if (!l.softmax) scores = softmax(scores);
      const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
      const picked = classes?.length
        ? order.filter(([, i]) => classes.includes(classNames[i]!))
        : order.slice(0, CLASSIFIER_TOP_K).filter(([s], rank) => rank === 0 || s >= minScore);
      return picked.map(([score, classId]) => ({
        label: classNames[classId] ?? `class_${classId}`,
        classId,
        score,
        box: [0, 0, frameWidth, frameHeight],
        scoreIndices: [[0, classId]],
      }));
    },
  };
}

function softmax(v: number[]): number[] {
  const max = v.reduce((m, x) => Math.max(m, x), -Infinity); // not Math.max(...v): 1e5 classes overflow the stack
  const e = v.map((x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}
