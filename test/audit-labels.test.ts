// `audit --labels`: the detector and its maps against hand-written ground truth, on the still test1.jpg and on
// two frames of the sample clip, through the CLI (JSON and HTML), plus the matching rules and bad label files.
// Kept small: one method (xgradcam), 2 deletion steps, no max-sensitivity, one random map, a 1-item gallery.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groundTruth, matchFrame, type LabelledBox } from '../src/audit/ground-truth.js';
import { COCO_CLASSES } from '../src/model/coco.js';
import { UserError } from '../src/errors.js';
import type { AuditReportJson } from '../src/audit/types.js';
import type { Box, Detection } from '../src/types.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';
import { expectOneLineError, runCli } from './helpers/cli.js';

const FAST = ['--methods', 'xgradcam', '--steps', '2', '--samples', '0', '--random-maps', '1', '--gallery', '1', '-q'];
const coco = (bbox: Box): number[] => [bbox[0], bbox[1], bbox[2] - bbox[0], bbox[3] - bbox[1]];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'saliencam-audit-labels-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function audit(source: string, labels: unknown, extra: string[] = []): Promise<{ json: AuditReportJson; html: string }> {
  const name = `${Math.random().toString(36).slice(2)}`;
  const labelsPath = join(dir, `${name}.labels.json`);
  await writeFile(labelsPath, JSON.stringify(labels));
  const json = join(dir, `${name}.json`);
  const report = join(dir, `${name}.html`);
  const r = await runCli(['audit', source, '--labels', labelsPath, '--json', json, '--report', report, ...FAST, ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { json: JSON.parse(await readFile(json, 'utf8')) as AuditReportJson, html: await readFile(report, 'utf8') };
}

describe('matchFrame', () => {
  const car = (box: Box): LabelledBox => ({ label: 'car', classId: 2, box });
  const det = (label: string, classId: number, score: number, box: Box): Detection => ({ label, classId, score, box });
  it('matches greedily by score, one detection per box, and sorts the rest into confusions and false positives', () => {
    const labels = [car([0, 0, 100, 100]), car([200, 0, 300, 100])];
    const found = [det('car', 2, 0.5, [2, 0, 100, 100]), det('car', 2, 0.9, [0, 0, 98, 100]), det('truck', 7, 0.4, [200, 0, 300, 98]), det('car', 2, 0.3, [500, 0, 600, 100])];
    const m = matchFrame(labels, found);
    // The higher-scoring car takes the first box; the second car on it is a duplicate (a false positive).
    expect(m.hits).toEqual([{ label: 0, detection: 1, iou: expect.closeTo(0.98, 2) }]);
    expect(m.misses).toEqual([1]);
    expect(m.confusions).toEqual([{ label: 1, detection: 2, iou: expect.closeTo(0.98, 2) }]);
    expect(m.falsePositives.sort()).toEqual([0, 3]);
  });
});

describe('groundTruth', () => {
  const file = (images: object[], categories: { id: number; name: string }[]) =>
    ({ name: 'l.json', images, categories, annotations: images.map((im, i) => ({ image_id: (im as { id: number }).id, category_id: categories[0]!.id, bbox: [10 * i, 0, 5, 5] as [number, number, number, number] })) }) as Parameters<typeof groundTruth>[0];
  it("ties an image sequence's file names to frames, and categories by name before COCO id", () => {
    const seq = ['/x/img_001.png', '/x/img_002.png', '/x/img_003.png'];
    // "automobile" is no class name: COCO id 3 makes it car. "truck" under id 1 (COCO's person) is a truck.
    const g = groundTruth(file([{ id: 5, file_name: 'img_003.png' }, { id: 6, file_name: 'sub/img_001.png' }], [{ id: 3, name: 'automobile' }]), COCO_CLASSES, seq);
    expect(g.frames).toEqual([0, 2]);
    expect(g.boxesFor(2)).toEqual([{ label: 'car', classId: 2, box: [0, 0, 5, 5] }]);
    expect(g.boxesFor(1)).toBeUndefined();
    const t = groundTruth(file([{ id: 1, file_name: 'a.jpg', frame_index: 4 }], [{ id: 1, name: 'truck' }]), COCO_CLASSES, []);
    expect(t.boxesFor(4)![0]!.label).toBe('truck');
    expect(() => groundTruth(file([{ id: 1, file_name: 'a.jpg' }], [{ id: 1, name: 'truck' }]), COCO_CLASSES, [])).toThrow(UserError);
  });
});

describe('audit --labels on the still test1.jpg', () => {
  // CenterNet on test1.jpg: the white car (car 0.70 and truck 0.34 on one box), the dark car (0.61); the far
  // roadway's cars are missed. Labelled: the white car, one far car (COCO ids: car 3). The dark car is left
  // unlabelled, so its detection counts as a false positive.
  const white: Box = [1047, 407, 1268, 511];
  const far: Box = [55, 440, 150, 492];
  let json: AuditReportJson;
  let html: string;
  beforeAll(async () => {
    ({ json, html } = await audit(clipPath('test1.jpg'), {
      images: [{ id: 7, file_name: 'test1.jpg', width: 1280, height: 720 }],
      annotations: [
        { id: 1, image_id: 7, category_id: 3, bbox: coco(white) },
        { id: 2, image_id: 7, category_id: 3, bbox: coco(far) },
      ],
      categories: [{ id: 3, name: 'car' }, { id: 8, name: 'truck' }],
    }));
  }, 180_000);

  it('reports recall, precision and the maps against the labelled box', () => {
    const l = json.labels!;
    expect(l.framesLabelled).toBe(1);
    const car = l.perClass.find((r) => r.label === 'car')!;
    expect(car).toMatchObject({ labelled: 2, detections: 2, hits: 1, recall: 0.5, precision: 0.5, misses: 1, confusions: 1, falsePositives: 1 });
    expect(car.methods.xgradcam!.n).toBe(1);
    expect(car.methods.xgradcam!.energyInBox).toBeGreaterThan(0);
    expect(l.perClass.find((r) => r.label === 'truck')).toMatchObject({ detections: 1, hits: 0, precision: 0 });
  });

  it('explains the missed far car with its region map: the best car score there and heat on it', () => {
    const [miss] = json.labels!.misses;
    expect(json.labels!.misses).toHaveLength(1);
    expect(miss).toMatchObject({ label: 'car', box: far, method: 'hirescam', pointingHit: true });
    expect(miss!.bestScore).toBeGreaterThan(0.05);
    expect(miss!.bestScore).toBeLessThan(0.3);
    expect(miss!.energyInBox).toBeGreaterThan(0.3);
  });

  it('lists the truck on the labelled car as a confusion with its contrastive map, and the dark car as a false positive', () => {
    const [c] = json.labels!.confusions;
    expect(c).toMatchObject({ label: 'car', detected: 'truck', labelBox: white });
    expect(c!.iou).toBeGreaterThan(0.9);
    expect(c!.maps.map((m) => [m.method, m.versus])).toEqual([['xgradcam', 'car']]);
    const fp = json.labels!.falsePositives;
    expect(fp.map((f) => f.label)).toEqual(['car']);
    expect(fp[0]!.box[0]).toBeGreaterThan(780);
    expect(fp[0]!.box[2]).toBeLessThan(980);
  });

  it('shows the per-class table, the misses with their maps, the confusions and the false positives in the HTML', () => {
    const section = html.slice(html.indexOf('<section id="labels">'), html.indexOf('<section id="settings">'));
    expect(section).toContain('recall @0.5');
    expect(section).toMatch(/<th scope="row">car<\/th><td>2<\/td><td>2<\/td><td>0\.50<\/td><td>0\.50<\/td>/);
    // One thumbnail each: the miss's region map, the confusion's contrastive map, the false positive's map.
    expect(section.match(/<img [^>]*src="data:image\/jpeg;base64,/g)).toHaveLength(3);
    expect(section).toContain('why not car · frame 0 · best score');
    expect(section).toContain('why truck rather than car · frame 0 · xgradcam');
    expect(section).toMatch(/<div class="gallery false-positives"><figure>/);
    expect(json.settings.extra).toMatchObject({ labels: expect.stringMatching(/\.labels\.json$/) });
    // The JSON carries no images.
    expect(JSON.stringify(json.labels)).not.toContain('jpeg');
  });
});

describe('audit --labels on two frames of the sample clip', () => {
  // Frames 0 and 12 (--every 12 --max-frames 2). Categories by name under ids of their own (as CVAT numbers
  // them); frame 0 by `frame_index` (CVAT, FiftyOne), frame 12 by `frame` (saliencam's own export).
  it('reports recall, the missed small car, the confusion and the unlabelled frame', async () => {
    const { json, html } = await audit(
      clipPath(TEST_VIDEO),
      {
        images: [
          { id: 1, file_name: 'frame_000000.jpg', frame_index: 0 },
          { id: 2, file_name: 'frame_000012.jpg', frame: 12 },
          { id: 3, file_name: 'frame_000036.jpg', frame_index: 36 },
        ],
        annotations: [
          { id: 1, image_id: 1, category_id: 1, bbox: coco([1001, 411, 1190, 503]) },
          { id: 2, image_id: 1, category_id: 1, bbox: coco([811, 417, 942, 498]) },
          // The small car ahead: found at 0.34 on frame 12, below the threshold on frame 0.
          { id: 3, image_id: 1, category_id: 1, bbox: coco([772, 411, 795, 427]) },
          { id: 4, image_id: 2, category_id: 1, bbox: coco([1020, 407, 1214, 506]) },
          { id: 5, image_id: 2, category_id: 1, bbox: coco([808, 416, 942, 498]) },
          { id: 6, image_id: 2, category_id: 1, bbox: coco([773, 412, 795, 427]) },
          { id: 7, image_id: 3, category_id: 1, bbox: coco([1000, 400, 1200, 500]) },
        ],
        categories: [{ id: 1, name: 'car' }, { id: 2, name: 'truck' }],
      },
      ['--every', '12', '--max-frames', '2'],
    );
    const l = json.labels!;
    expect(l.framesLabelled).toBe(2);
    expect(l.framesNotSampled).toEqual([36]);
    const car = l.perClass.find((r) => r.label === 'car')!;
    expect(car.labelled).toBe(6);
    expect(car.hits).toBe(5);
    expect(car.recall).toBeCloseTo(5 / 6, 5);
    expect(l.misses.map((m) => [m.frame, m.label])).toEqual([[0, 'car']]);
    expect(l.misses[0]!.bestScore).toBeLessThan(0.3);
    expect(l.confusions.map((c) => [c.frame, c.label, c.detected])).toEqual([[0, 'car', 'truck'], [12, 'car', 'truck']]);
    expect(l.falsePositives).toEqual([]);
    expect(html).toContain('1 labelled frame(s) were not sampled (36)');
    expect(html).toContain('why not car · frame 0');
  }, 180_000);
});

describe('audit --labels: bad label files', () => {
  const still = (): string => clipPath('test1.jpg');
  const cases: [string, unknown, RegExp][] = [
    ['not COCO', { images: [] }, /--labels .*: not a COCO detection file: annotations: /],
    ['a category the model lacks', { images: [{ id: 1, file_name: 'test1.jpg' }], annotations: [{ id: 1, image_id: 1, category_id: 99, bbox: [0, 0, 5, 5] }], categories: [{ id: 99, name: 'unicorn' }] }, /category "unicorn" \(id 99\) is not a class of the model/],
    ['an image naming no file of the source', { images: [{ id: 1, file_name: 'other.jpg' }], annotations: [], categories: [{ id: 3, name: 'car' }] }, /image "other\.jpg" has no frame_index and names no file of the source/],
  ];
  for (const [what, labels, message] of cases) {
    it(`rejects ${what} in one line, exit 2`, async () => {
      const p = join(dir, `bad-${what.replace(/\W+/g, '-')}.json`);
      await writeFile(p, JSON.stringify(labels));
      const out = join(dir, `bad-${what.replace(/\W+/g, '-')}.out.json`);
      const r = await runCli(['audit', still(), '--labels', p, '--json', out, ...FAST]);
      expect(r.code).toBe(2);
      expect(expectOneLineError(r)).toMatch(message);
    });
  }
  it('rejects a file that is not JSON', async () => {
    const p = join(dir, 'bad.json');
    await writeFile(p, '{"images": [');
    const r = await runCli(['audit', still(), '--labels', p, '--json', join(dir, 'bad.out.json'), ...FAST]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r)).toMatch(/not JSON$/);
  });
});
