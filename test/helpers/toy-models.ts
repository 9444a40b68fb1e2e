// Small GraphModels with the layout of real exports and weights chosen so every output can be computed by hand.
//
// Toy YOLO (ultralytics v8 head as `yolo export format=tfjs` converts it): input `images` [1,64,64,3] (RGB/255),
// a 1×1 stem + SiLU, then three "neck" feature maps P3 (8×8, stride 8), P4 (4×4), P5 (2×2), each an average of the
// one before + SiLU. Per scale a box conv and a class conv, concatenated, transposed to [1,4+C,h·w] and
// concatenated over scales to [1,4+C,84]; box rows = a constant anchor table (+ the zero box conv, as the real
// graph adds its anchor grid), class rows through one Sigmoid. Channels: 0 = brightness, 2 = redness, so
// class 0 ("white") fires on white patches and class 1 ("red") on red ones.
import { GraphModelWriter } from './graph-model-writer.js';

export const TOY_SIZE = 64;
export const TOY_STRIDES = [8, 16, 32] as const;
export const TOY_ANCHORS = TOY_STRIDES.reduce((n, s) => n + (TOY_SIZE / s) ** 2, 0); // 84
const CH = 4;

/** A box [cx, cy, w, h] (input pixels) per anchor; `override(stride, x, y)` may replace the default. */
export type BoxTable = (stride: number, x: number, y: number) => [number, number, number, number] | undefined;

const silu = (v: number) => v / (1 + Math.exp(-v));

/** Class logits of the toy YOLO for a cell whose pixels (after /255) have this mean RGB, at scale level 0..2. */
export function toyYoloLogits(rgb: [number, number, number], level: number): [number, number] {
  let bright = silu((rgb[0] + rgb[1] + rgb[2]) / 3);
  let red = silu(rgb[0] - (rgb[1] + rgb[2]) / 2);
  for (let i = 0; i <= level; i++) {
    bright = silu(bright);
    red = silu(red);
  }
  return [20 * bright - 6, 20 * red - 6];
}

/** Anchor index of cell (x, y) at scale level (0: stride 8, 1: 16, 2: 32). */
export function anchorIndex(level: number, x: number, y: number): number {
  let off = 0;
  for (let l = 0; l < level; l++) off += (TOY_SIZE / TOY_STRIDES[l]!) ** 2;
  return off + y * (TOY_SIZE / TOY_STRIDES[level]!) + x;
}

function diagonal(k: number, value: number): number[] {
  const w: number[] = [];
  for (let i = 0; i < k * k; i++) for (let ci = 0; ci < CH; ci++) for (let co = 0; co < CH; co++) w.push(ci === co ? value : 0);
  return w;
}

export interface ToyYoloOptions {
  /** No separate Sigmoid on the class rows: a Sigmoid per scale before the concat instead. */
  folded?: boolean;
  boxes?: BoxTable;
}

/** Writes the toy YOLO; returns { path, necks: neck node names P5, P4, P3 (low to high resolution) }. */
export async function writeToyYolo(dir: string, opts: ToyYoloOptions = {}): Promise<{ path: string; necks: string[]; preSigmoid?: string }> {
  const g = new GraphModelWriter();
  const C = 2;
  const x = g.input('images', [1, TOY_SIZE, TOY_SIZE, 3]);
  // Stem 1×1: co0 = mean RGB, co1 = darkness (bias 1), co2 = R − (G + B) / 2, co3 = 0. Filter [1,1,3,4].
  const stem = [1 / 3, -1 / 3, 1, 0, 1 / 3, -1 / 3, -0.5, 0, 1 / 3, -1 / 3, -0.5, 0];
  const f0 = g.silu(g.conv(x, stem, [1, 1, 3, CH], [0, 1, 0, 0]));
  const p3 = g.silu(g.conv(f0, diagonal(8, 1 / 64), [8, 8, CH, CH], [0, 0, 0, 0], 8, 'VALID'));
  const p4 = g.silu(g.conv(p3, diagonal(2, 1 / 4), [2, 2, CH, CH], [0, 0, 0, 0], 2, 'VALID'));
  const p5 = g.silu(g.conv(p4, diagonal(2, 1 / 4), [2, 2, CH, CH], [0, 0, 0, 0], 2, 'VALID'));
  // Class conv [1,1,4,2]: class 0 ← 20·ch0, class 1 ← 20·ch2, bias −6.
  const clsW = [20, 0, 0, 0, 0, 20, 0, 0];
  const flat: string[] = [];
  TOY_STRIDES.forEach((stride, level) => {
    const p = [p3, p4, p5][level]!;
    const n = (TOY_SIZE / stride) ** 2;
    const box = g.conv(p, new Array(CH * 4).fill(0), [1, 1, CH, 4], [0, 0, 0, 0]);
    let cls = g.conv(p, clsW, [1, 1, CH, C], [-6, -6]);
    if (opts.folded) cls = g.op(g.name('tf.math.sigmoid', 'Sigmoid'), 'Sigmoid', [cls]);
    flat.push(g.reshape(g.transpose(g.concat([box, cls], 3), [0, 3, 1, 2]), [1, 4 + C, n]));
  });
  const all = g.concat(flat, 2);
  const boxRows = g.stridedSlice(all, [0, 0, 0], [0, 4, 0], 5, 5);
  const clsRows = g.stridedSlice(all, [0, 4, 0], [0, 0, 0], 5, 7);
  const anchors = new Float32Array(4 * TOY_ANCHORS);
  TOY_STRIDES.forEach((stride, level) => {
    const side = TOY_SIZE / stride;
    for (let y = 0; y < side; y++) {
      for (let xx = 0; xx < side; xx++) {
        const a = anchorIndex(level, xx, y);
        const b = opts.boxes?.(stride, xx, y) ?? [(xx + 0.5) * stride, (y + 0.5) * stride, 2 * stride, 2 * stride];
        b.forEach((v, r) => (anchors[r * TOY_ANCHORS + a] = v));
      }
    }
  });
  const boxes = g.op(g.name('tf.math.add', 'Add'), 'AddV2', [g.const(anchors, [1, 4, TOY_ANCHORS]), boxRows]);
  const scores = opts.folded ? clsRows : g.op(g.name('tf.math.sigmoid', 'Sigmoid'), 'Sigmoid', [clsRows]);
  const out = g.op('PartitionedCall/model/output0/concat', 'ConcatV2', [boxes, scores, g.const([1], [], 'int32')], { N: { i: '2' }, Tidx: { type: 'DT_INT32' } });
  const path = await g.write(dir, out);
  return { path, necks: [p5, p4, p3], ...(opts.folded ? {} : { preSigmoid: clsRows }) };
}

/**
 * Toy classifier as Keras → TF.js converts one: input [1,16,16,3] (RGB/255), 3×3 conv + ReLU to 4 channels
 * (ch0 = brightness, ch1 = redness, ch2 = darkness, ch3 = greenness), global average pooling (Mean over h, w),
 * dense as _FusedMatMul(+BiasAdd) with a known kernel, Softmax.
 */
export const TOY_CLASSIFIER_SIZE = 16;
/** Dense kernel [C=4, K=3], row-major. */
export const TOY_DENSE = [
  [4, -1, 0.5],
  [-1, 5, 0],
  [-2, -2, 3],
  [0.5, 0, -1],
];
export async function writeToyClassifier(dir: string): Promise<{ path: string; feature: string }> {
  const g = new GraphModelWriter();
  const x = g.input('input_1', [1, TOY_CLASSIFIER_SIZE, TOY_CLASSIFIER_SIZE, 3]);
  // 3×3 filter [3,3,3,4]: only the centre tap is non-zero (so A is a per-pixel function of the input).
  const filter: number[] = [];
  const centre = [
    [1 / 3, 1, -1 / 3, -0.5],
    [1 / 3, -1, -1 / 3, 1],
    [1 / 3, -1, -1 / 3, -0.5],
  ]; // [ci][co]
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let ci = 0; ci < 3; ci++) for (let co = 0; co < 4; co++) filter.push(i === 1 && j === 1 ? centre[ci]![co]! : 0);
  const conv = g.conv(x, filter, [3, 3, 3, 4], [0, 0, 1, 0]);
  const feature = g.op('StatefulPartitionedCall/model/conv_relu/Relu', 'Relu', [conv]);
  const pooled = g.op('StatefulPartitionedCall/model/global_average_pooling2d/Mean', 'Mean', [feature, g.const([1, 2], [2], 'int32')], { keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } });
  const dense = g.op(
    'StatefulPartitionedCall/model/predictions/BiasAdd',
    '_FusedMatMul',
    [pooled, g.const(TOY_DENSE.flat(), [4, 3]), g.const([0.1, -0.2, 0], [3])],
    { fused_ops: { list: { s: [Buffer.from('BiasAdd').toString('base64')] } }, num_args: { i: '1' }, transpose_a: { b: false }, transpose_b: { b: false }, epsilon: { f: 0 } },
  );
  const soft = g.op('StatefulPartitionedCall/model/predictions/Softmax', 'Softmax', [dense]);
  const path = await g.write(dir, soft);
  return { path, feature };
}

/** mulberry32: a small seeded PRNG, so a "random" network is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeededClassifier {
  path: string;
  size: number;
  channels: number;
  classes: number;
  /** Conv filter HWIO [3,3,3,C] row-major, its bias [C]; dense kernel [C,K] row-major, its bias [K]. */
  filter: number[];
  convBias: number[];
  dense: number[];
  denseBias: number[];
}

/**
 * A GAP classifier with seeded random weights, in the Keras → TF.js layout of writeToyClassifier: input
 * [1,S,S,3] (RGB/255), 3×3 SAME conv + bias + ReLU (the CAM layer), Mean over h, w, dense, Softmax.
 */
export async function writeSeededClassifier(dir: string, seed: number, size = 12, channels = 6, classes = 4): Promise<SeededClassifier> {
  const rnd = seededRandom(seed);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rnd();
  const filter = Array.from({ length: 3 * 3 * 3 * channels }, () => u(-1, 1));
  const convBias = Array.from({ length: channels }, () => u(-0.3, 0.4));
  const dense = Array.from({ length: channels * classes }, () => u(-2, 2));
  const denseBias = Array.from({ length: classes }, () => u(-0.5, 0.5));
  const g = new GraphModelWriter();
  const x = g.input('input_1', [1, size, size, 3]);
  const conv = g.conv(x, filter, [3, 3, 3, channels], convBias);
  const feature = g.op('StatefulPartitionedCall/model/conv_relu/Relu', 'Relu', [conv]);
  const pooled = g.op('StatefulPartitionedCall/model/global_average_pooling2d/Mean', 'Mean', [feature, g.const([1, 2], [2], 'int32')], { keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } });
  const logits = g.op(
    'StatefulPartitionedCall/model/predictions/BiasAdd',
    '_FusedMatMul',
    [pooled, g.const(dense, [channels, classes]), g.const(denseBias, [classes])],
    { fused_ops: { list: { s: [Buffer.from('BiasAdd').toString('base64')] } }, num_args: { i: '1' }, transpose_a: { b: false }, transpose_b: { b: false }, epsilon: { f: 0 } },
  );
  const soft = g.op('StatefulPartitionedCall/model/predictions/Softmax', 'Softmax', [logits]);
  const path = await g.write(dir, soft);
  return { path, size, channels, classes, filter, convBias, dense, denseBias };
}
