// COCO/FiftyOne export that scores against real ground truth: COCO's own category ids (80 classes numbered
// 1–90 with gaps), every class of the model listed with its name, and classifiers named from their metadata or
// a --names file.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { COCO_CLASSES } from '../src/model/coco.js';
import { datasetCategories } from '../src/output/categories.js';
import { fiftyOneSnippet } from '../src/output/fiftyone-sink.js';
import { runExport } from '../src/pipeline/export.js';
import { DEFAULT_RENDER } from '../src/settings.js';
import type { ExplainedFrame } from '../src/types.js';
import { expectOneLineError, runCli } from './helpers/cli.js';
import { ffmpegRun, useTmpDir } from './helpers/clips.js';
import { stubEngine } from './helpers/stub-engine.js';
import { TOY_CLASSIFIER_SIZE, writeToyClassifier } from './helpers/toy-models.js';

/** COCO 2017's categories as instances_val2017.json lists them: [id, name, supercategory]. */
const COCO_2017: [number, string, string][] = [
  [1, 'person', 'person'], [2, 'bicycle', 'vehicle'], [3, 'car', 'vehicle'], [4, 'motorcycle', 'vehicle'], [5, 'airplane', 'vehicle'],
  [6, 'bus', 'vehicle'], [7, 'train', 'vehicle'], [8, 'truck', 'vehicle'], [9, 'boat', 'vehicle'], [10, 'traffic light', 'outdoor'],
  [11, 'fire hydrant', 'outdoor'], [13, 'stop sign', 'outdoor'], [14, 'parking meter', 'outdoor'], [15, 'bench', 'outdoor'],
  [16, 'bird', 'animal'], [17, 'cat', 'animal'], [18, 'dog', 'animal'], [19, 'horse', 'animal'], [20, 'sheep', 'animal'],
  [21, 'cow', 'animal'], [22, 'elephant', 'animal'], [23, 'bear', 'animal'], [24, 'zebra', 'animal'], [25, 'giraffe', 'animal'],
  [27, 'backpack', 'accessory'], [28, 'umbrella', 'accessory'], [31, 'handbag', 'accessory'], [32, 'tie', 'accessory'],
  [33, 'suitcase', 'accessory'], [34, 'frisbee', 'sports'], [35, 'skis', 'sports'], [36, 'snowboard', 'sports'],
  [37, 'sports ball', 'sports'], [38, 'kite', 'sports'], [39, 'baseball bat', 'sports'], [40, 'baseball glove', 'sports'],
  [41, 'skateboard', 'sports'], [42, 'surfboard', 'sports'], [43, 'tennis racket', 'sports'], [44, 'bottle', 'kitchen'],
  [46, 'wine glass', 'kitchen'], [47, 'cup', 'kitchen'], [48, 'fork', 'kitchen'], [49, 'knife', 'kitchen'], [50, 'spoon', 'kitchen'],
  [51, 'bowl', 'kitchen'], [52, 'banana', 'food'], [53, 'apple', 'food'], [54, 'sandwich', 'food'], [55, 'orange', 'food'],
  [56, 'broccoli', 'food'], [57, 'carrot', 'food'], [58, 'hot dog', 'food'], [59, 'pizza', 'food'], [60, 'donut', 'food'],
  [61, 'cake', 'food'], [62, 'chair', 'furniture'], [63, 'couch', 'furniture'], [64, 'potted plant', 'furniture'],
  [65, 'bed', 'furniture'], [67, 'dining table', 'furniture'], [70, 'toilet', 'furniture'], [72, 'tv', 'electronic'],
  [73, 'laptop', 'electronic'], [74, 'mouse', 'electronic'], [75, 'remote', 'electronic'], [76, 'keyboard', 'electronic'],
  [77, 'cell phone', 'electronic'], [78, 'microwave', 'appliance'], [79, 'oven', 'appliance'], [80, 'toaster', 'appliance'],
  [81, 'sink', 'appliance'], [82, 'refrigerator', 'appliance'], [84, 'book', 'indoor'], [85, 'clock', 'indoor'],
  [86, 'vase', 'indoor'], [87, 'scissors', 'indoor'], [88, 'teddy bear', 'indoor'], [89, 'hair drier', 'indoor'],
  [90, 'toothbrush', 'indoor'],
];

interface Coco {
  categories: { id: number; name: string; supercategory: string }[];
  annotations: { category_id: number; bbox: number[] }[];
}

const tmp = useTmpDir('coco-');
let clip: string;
beforeAll(async () => {
  clip = join(tmp.dir, 'clip.mp4');
  await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=5', '-t', '0.4', '-pix_fmt', 'yuv420p', clip]);
});

describe('COCO categories', () => {
  it("COCO-80 models get COCO's own ids, names and supercategories (checked against COCO 2017's table)", () => {
    const { categories, idOf } = datasetCategories(COCO_CLASSES);
    expect(categories.map((c) => [c.id, c.name, c.supercategory])).toEqual(COCO_2017);
    expect(idOf(COCO_CLASSES.indexOf('stop sign'))).toBe(13);
    expect(idOf(79)).toBe(90);
    // Another class list is numbered index + 1.
    expect(datasetCategories(['white', 'red']).categories).toEqual([{ id: 1, name: 'white', supercategory: '' }, { id: 2, name: 'red', supercategory: '' }]);
  });

  it('the FiftyOne export lists all 80 classes and annotates a stop sign as 13, a toothbrush as 90', async () => {
    const stub = stubEngine();
    const engine = {
      ...stub,
      async explain(...args: Parameters<typeof stub.explain>): Promise<ExplainedFrame> {
        const r = await stub.explain(...args);
        r.detections.push({ label: 'stop sign', classId: 11, score: 0.8, box: [10, 10, 50, 50] }, { label: 'toothbrush', classId: 79, score: 0.5, box: [60, 10, 70, 40] });
        return r;
      },
    };
    const dir = join(tmp.dir, 'ds');
    await runExport(engine, { input: clip, output: dir, format: 'fiftyone', render: DEFAULT_RENDER });
    const coco = JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')) as Coco;
    expect(coco.categories.map((c) => [c.id, c.name, c.supercategory])).toEqual(COCO_2017);
    expect(new Set(coco.annotations.map((a) => a.category_id))).toEqual(new Set([3, 8, 13, 90]));
    // The dataset's own README loads it with label_types, so FiftyOne fills `detections` itself.
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toMatch(/label_field="detections", label_types="detections"\)/);
    // …and the project README shows the same lines.
    expect(await readFile('README.md', 'utf8')).toContain(fiftyOneSnippet('drive-dataset'));
  });
});

describe('class names of a classifier', () => {
  it('from metadata.yaml or model.json metadata, else class_<i>; --names overrides, and a wrong count is one line', async () => {
    const plain = (await writeToyClassifier(join(tmp.dir, 'plain'))).path;
    const yaml = (await writeToyClassifier(join(tmp.dir, 'yaml'))).path;
    await writeFile(join(tmp.dir, 'yaml', 'metadata.yaml'), 'names:\n  0: bright\n  1: red\n  2: dark\n');
    const meta = (await writeToyClassifier(join(tmp.dir, 'meta'))).path;
    const json = JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>;
    await writeFile(meta, JSON.stringify({ ...json, userDefinedMetadata: { labels: { classNames: ['b', 'r', 'd'] } } }));
    const image = join(tmp.dir, 'red.png');
    await sharp({ create: { width: TOY_CLASSIFIER_SIZE, height: TOY_CLASSIFIER_SIZE, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toFile(image);

    const classes = async (model: string) => {
      const engine = await Engine.create({ model, backend: 'wasm' });
      engine.dispose();
      return engine.classNames;
    };
    expect(await classes(plain)).toEqual(['class_0', 'class_1', 'class_2']);
    expect(await classes(yaml)).toEqual(['bright', 'red', 'dark']);
    expect(await classes(meta)).toEqual(['b', 'r', 'd']);

    const names = join(tmp.dir, 'names.txt');
    await writeFile(names, '# toy classifier\nlight\ncrimson\nshadow\n');
    const out = join(tmp.dir, 'r.json');
    const r = await runCli(['explain', image, '--model', plain, '--names', names, '--classes', 'crimson', '--json', out, '-q']);
    expect(r.stderr).toBe('');
    const record = JSON.parse(await readFile(out, 'utf8')) as { detections: { label: string; classId: number }[]; saliency: { label: string }[] };
    expect(record.detections).toMatchObject([{ label: 'crimson', classId: 1 }]);
    expect(record.saliency.map((s) => s.label)).toEqual(['crimson']);

    await writeFile(names, 'light\ncrimson\n');
    const bad = await runCli(['explain', image, '--model', plain, '--names', names]);
    expect(bad.code).toBe(2);
    expect(expectOneLineError(bad)).toMatch(/--names .*names\.txt: 2 names for a model with 3 classes/);
  });
});
