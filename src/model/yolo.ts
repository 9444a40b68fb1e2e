// Ultralytics YOLO detection exports (`yolo export format=tfjs`, v5u/v8/v11 heads): one output [1, 4 + C, N],
// rows cx, cy, w, h in input pixels then C sigmoid class scores, N anchors over the strides 8/16/32 grids.
// Preprocessing and decoding follow ultralytics' own predictor: letterbox (aspect kept, 114 grey, centred),
// RGB / 255, best class per anchor, NMS per class at IoU 0.7.
import * as tf from '@tensorflow/tfjs-core';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Box, Frame } from '../types.js';
import { UserError } from '../errors.js';
import { COCO_CLASSES } from './coco.js';
import type { DetectedObject, Detector } from './detector.js';
import { dynamicAncestors, dynamicInputsOf, walkBackThrough, type GraphIndex } from './graph-walk.js';
import type { GraphNode } from './graph.js';
import type { LoadedGraph } from './load.js';
import { insideModelFolder, readRegularFile } from './model-files.js';
import { nmsPerClass } from './nms.js';
import { bestOf, cellsIn, type ScoreGrid } from './region.js';

/** Ultralytics predict defaults. */
export const YOLO_IOU = 0.7;
const MAX_DETECTIONS = 300;
const PAD_VALUE = 114;

/** Ops that only move values around between the head convolutions and the output. */
const RELAYOUT = new Set(['Identity', 'ConcatV2', 'Concat', 'Reshape', 'Transpose', 'StridedSlice', 'Slice', 'Squeeze', 'ExpandDims', 'Pack']);
const RELAYOUT_AND_SIGMOID = new Set([...RELAYOUT, 'Sigmoid']);

/** What recognition found in the graph (see recognise.ts). */
export interface YoloLayout {
  inputName: string;
  /** NCHW exports exist (PyTorch-ordered input); ultralytics' own tfjs export is NHWC. */
  layout: 'NHWC' | 'NCHW';
  inputSize: { width: number; height: number };
  numClasses: number;
  /** Node whose output holds the pre-sigmoid class scores. */
  scoreNode: string;
  /** Row of class 0 in the score node ([1, C, N] before the sigmoid: 0; the added logit of the output: 4). */
  classOffset: number;
  /** True when the graph has no separate sigmoid: targets are the logit of the exported score. */
  folded: boolean;
  /** The neck's last feature map at each scale, low to high resolution. */
  neckLayers: string[];
  decodeNode: string;
}

// ---- letterbox ---------------------------------------------------------------------------------------------

export interface Letterbox {
  /** Resize gain (same on both axes). */
  gain: number;
  /** Resized image size before padding. */
  width: number;
  height: number;
  /** Padding on the left and top, in input pixels. */
  left: number;
  top: number;
}

/** Python's round() for the .5 cases ultralytics' `round(dh ± 0.1)` never hits: plain rounding is the same. */
export function letterboxParams(srcW: number, srcH: number, dstW: number, dstH: number): Letterbox {
  const gain = Math.min(dstW / srcW, dstH / srcH);
  const width = Math.round(srcW * gain);
  const height = Math.round(srcH * gain);
  const dw = (dstW - width) / 2;
  const dh = (dstH - height) / 2;
  // `|| 0`: no negative zero when there is nothing to pad.
  return { gain, width, height, left: Math.round(dw - 0.1) || 0, top: Math.round(dh - 0.1) || 0 };
}

/** RGB batch [n,h,w,3] (0-255) → letterboxed float batch [n,dstH,dstW,3] (0-255, grey padding). */
export function letterbox(rgb: tf.Tensor4D, dstW: number, dstH: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = rgb.shape;
    const lb = letterboxParams(w, h, dstW, dstH);
    let f = tf.cast(rgb, 'float32') as tf.Tensor4D;
    // Half-pixel centres: what cv2.resize(INTER_LINEAR) samples.
    if (lb.width !== w || lb.height !== h) f = tf.image.resizeBilinear(f, [lb.height, lb.width], false, true);
    const right = dstW - lb.width - lb.left;
    const bottom = dstH - lb.height - lb.top;
    if (!lb.left && !lb.top && !right && !bottom) return f;
    return tf.pad(f, [[0, 0], [lb.top, bottom], [lb.left, right], [0, 0]], PAD_VALUE) as tf.Tensor4D;
  });
}

// ---- decoding ----------------------------------------------------------------------------------------------

/**
 * Decode one batch row of the output ([4 + C, N] row-major) into detections in source pixels: the best class per
 * anchor (ultralytics' single-label NMS), boxes un-letterboxed and clipped, NMS per class.
 */
export function decodeYolo(
  out: Float32Array | Int32Array | Uint8Array,
  numClasses: number,
  numAnchors: number,
  inputSize: { width: number; height: number },
  frameWidth: number,
  frameHeight: number,
  minScore: number,
  classNames: readonly string[],
  scoreIndex: (classId: number, anchor: number) => number[],
): DetectedObject[] {
  const lb = letterboxParams(frameWidth, frameHeight, inputSize.width, inputSize.height);
  const n = numAnchors;
  const found: DetectedObject[] = [];
  for (let a = 0; a < n; a++) {
    let best = -1;
    let score = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const s = out[(4 + c) * n + a]!;
      if (s > score) {
        score = s;
        best = c;
      }
    }
    if (!(score >= minScore) || best < 0) continue;
    const cx = out[a]!;
    const cy = out[n + a]!;
    const w = out[2 * n + a]!;
    const h = out[3 * n + a]!;
    const box: Box = [
      clamp((cx - w / 2 - lb.left) / lb.gain, 0, frameWidth),
      clamp((cy - h / 2 - lb.top) / lb.gain, 0, frameHeight),
      clamp((cx + w / 2 - lb.left) / lb.gain, 0, frameWidth),
      clamp((cy + h / 2 - lb.top) / lb.gain, 0, frameHeight),
    ];
    if (box[2] - box[0] <= 0 || box[3] - box[1] <= 0) continue;
    found.push({ label: classNames[best] ?? `class_${best}`, classId: best, score, box: box.map(round1) as Box, scoreIndices: [scoreIndex(best, a)] });
  }
  return nmsPerClass(found, YOLO_IOU).slice(0, MAX_DETECTIONS);
}

// ---- graph structure ---------------------------------------------------------------------------------------

/** The Sigmoid that produces the class rows of the output, when the export kept it as one node. */
export function findClassSigmoid(g: GraphIndex, outputNode: string): string | undefined {
  const sigmoids = walkBackThrough(g, outputNode, new Set(['Identity', 'ConcatV2', 'Concat'])).filter((n) => g.byName.get(n)?.op === 'Sigmoid');
  return sigmoids.length === 1 ? sigmoids[0] : undefined;
}

/**
 * The neck's last feature map at each scale: the head's per-scale box and class branches (the first non-layout
 * nodes behind the output) share it as their closest common ancestor. Unordered; recognise.ts sorts by size.
 */
export function findNeckOutputs(g: GraphIndex, start: string): string[] {
  let leaves = walkBackThrough(g, start, RELAYOUT_AND_SIGMOID);
  const anc = new Map(leaves.map((l) => [l, dynamicAncestors(g, l)]));
  // Post-processing on top of the head (DFL box decoding) has head branches among its ancestors: not a branch.
  leaves = leaves.filter((l) => !leaves.some((m) => m !== l && anc.get(l)!.has(m)));
  const necks = new Set<string>();
  for (const leaf of leaves) {
    const others = new Set<string>();
    for (const m of leaves) if (m !== leaf) for (const a of anc.get(m)!) others.add(a);
    let best: string | undefined;
    let depth = -1;
    for (const a of anc.get(leaf)!) {
      if (!others.has(a)) continue;
      const d = dynamicAncestors(g, a).size; // the closest shared ancestor has the most ancestors of its own
      if (d > depth) {
        depth = d;
        best = a;
      }
    }
    if (best) necks.add(best);
  }
  return [...necks];
}

/** The Sigmoid's input: the pre-sigmoid class scores. */
export function sigmoidInput(g: GraphIndex, sigmoid: string): string | undefined {
  return dynamicInputsOf(g, sigmoid)[0];
}

export const LOGIT_SUFFIX = '/saliencam_logit';

/**
 * For exports without a separate sigmoid node: add logit(clip(p, ε, 1 − ε)) of the output as a node. Built from
 * constant-free ops (the weights manifest cannot grow here): ε = exp(−e^e) ≈ 2.6e-7, from OnesLike. The clip keeps
 * the box rows and saturated scores finite; targets only read the class rows.
 */
export function addLogitNode(nodes: GraphNode[], output: string): string {
  const p = output;
  const n = (suffix: string) => `${output}${LOGIT_SUFFIX}/${suffix}`;
  const T = { T: { type: 'DT_FLOAT' } };
  const add = (suffix: string, op: string, input: string[]) => nodes.push({ name: n(suffix), op, input, attr: { ...T } });
  add('one', 'OnesLike', [p]);
  add('e', 'Exp', [n('one')]);
  add('ee', 'Exp', [n('e')]);
  add('neg_ee', 'Neg', [n('ee')]);
  add('eps', 'Exp', [n('neg_ee')]);
  add('hi', 'Sub', [n('one'), n('eps')]);
  add('below', 'Minimum', [p, n('hi')]);
  add('clipped', 'Maximum', [n('below'), n('eps')]);
  add('log_p', 'Log', [n('clipped')]);
  add('neg_p', 'Neg', [n('clipped')]);
  add('log_1mp', 'Log1p', [n('neg_p')]);
  const name = output + LOGIT_SUFFIX;
  nodes.push({ name, op: 'Sub', input: [n('log_p'), n('log_1mp')], attr: { ...T } });
  return name;
}

// ---- class names -------------------------------------------------------------------------------------------

/** metadata.yaml names the classes: 4 MiB holds ~200 000 names (a real export's is a few KiB). */
const MAX_METADATA_BYTES = 4 * 1024 * 1024;

/** Class names from the export's metadata.yaml (`names: {0: person, …}`), else COCO for 80 classes, else class_<i>. */
export function yoloClassNames(modelPath: string, numClasses: number): { names: string[]; source: string } {
  try {
    const meta = insideModelFolder(dirname(modelPath), 'metadata.yaml', 'metadata.yaml of the model');
    if (meta) {
      // uniqueKeys off: the yaml package's duplicate-key check is quadratic in the number of names.
      const doc = parseYaml(readRegularFile(meta, MAX_METADATA_BYTES, 'metadata.yaml').toString('utf8'), { uniqueKeys: false, maxAliasCount: 0 }) as { names?: unknown } | null;
      const names = doc?.names;
      const list = Array.isArray(names) ? names.map(String) : names && typeof names === 'object' ? Object.entries(names).sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => String(v)) : [];
      if (list.length === numClasses) return { names: list, source: 'metadata.yaml' };
    }
  } catch {
    // A broken, hostile or oversized metadata.yaml is not fatal: the graph alone is enough to explain it.
  }
  if (numClasses === COCO_CLASSES.length) return { names: [...COCO_CLASSES], source: 'COCO-80' };
  return { names: Array.from({ length: numClasses }, (_, i) => `class_${i}`), source: 'class_<i>' };
}

// ---- the adapter -------------------------------------------------------------------------------------------

export function yoloDetector(graph: LoadedGraph, l: YoloLayout, classNames: readonly string[]): Detector {
  const { width, height } = l.inputSize;
  return {
    name: 'yolo',
    classNames,
    graph,
    inputName: l.inputName,
    inputSize: l.inputSize,
    scoreNodes: [l.scoreNode],
    scoreActivation: 'sigmoid',
    // Default: the stride-8 neck output. It is an ancestor of all three scales' heads (the PAN path runs through
    // it), so one backward pass from it sees every detection, and it is the sharpest of the three maps.
    camLayer: l.neckLayers[l.neckLayers.length - 1]!,
    polyLayers: l.neckLayers.length > 1 ? l.neckLayers : [],
    decodeNodes: [l.decodeNode],

    preprocess(frame: Frame): tf.Tensor4D {
      return tf.tidy(() => this.normalise(tf.expandDims(tf.tensor3d(frame.rgb, [frame.height, frame.width, 3], 'int32'), 0) as tf.Tensor4D));
    },

    normalise(rgb: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy(() => {
        const x = tf.div(letterbox(rgb, width, height), 255) as tf.Tensor4D;
        return l.layout === 'NCHW' ? (tf.transpose(x, [0, 3, 1, 2]) as tf.Tensor4D) : x;
      });
    },

    async decode(outputs, frameWidth, frameHeight, minScore): Promise<DetectedObject[]> {
      const out = outputs[0]!;
      const [, rows, anchors] = out.shape as [number, number, number];
      const data = await out.data();
      const numClasses = rows - 4;
      return decodeYolo(data as Float32Array, numClasses, anchors, l.inputSize, frameWidth, frameHeight, minScore, classNames, (c, a) => [0, c + l.classOffset, a]);
    },

    withClass: ([node, , anchor], classId) => [node!, classId + l.classOffset, anchor!],

    // The anchors centred in the box, on every stride's grid (ultralytics' order: stride 8, 16, 32, row-major).
    async regionBest(outputs, box, classId, frameWidth, frameHeight) {
      const out = outputs[0]!;
      const anchors = out.shape[2]!;
      const grids = yoloGrids(width, height, frameWidth, frameHeight);
      if (grids.reduce((n, g) => n + g.width * g.height, 0) !== anchors) throw new UserError(`--why: this YOLO export's ${anchors} anchors are not the stride 8/16/32 grids of a ${width}x${height} input`);
      const row = tf.slice(out, [0, 4 + classId, 0], [1, 1, anchors]);
      const v = (await row.data()) as Float32Array;
      row.dispose();
      let first = 0;
      return bestOf(
        grids.map((g) => {
          const base = first;
          first += g.width * g.height;
          return { range: cellsIn(g, box), at: (x: number, y: number) => v[base + y * g.width + x]!, index: (x: number, y: number) => [0, classId + l.classOffset, base + y * g.width + x] };
        }),
      );
    },
  };
}

/** Anchor grids of an ultralytics head in source pixels: centres at (x + ½)·stride in the letterboxed input. */
export function yoloGrids(inW: number, inH: number, frameWidth: number, frameHeight: number): ScoreGrid[] {
  const lb = letterboxParams(frameWidth, frameHeight, inW, inH);
  return [8, 16, 32].map((s) => ({
    width: Math.ceil(inW / s),
    height: Math.ceil(inH / s),
    stepX: s / lb.gain,
    stepY: s / lb.gain,
    offset: 0.5,
    originX: -lb.left / lb.gain,
    originY: -lb.top / lb.gain,
  }));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
