// The overlay shows every object: one label per box (classes sharing a box on one plate), plates that never
// cover one another on any frame of the sample drive, and `--normalise box` giving each detection its own scale.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { layoutBoxes, labelPlate, boxStyleFor, scaledBox } from '../src/render/boxes.js';
import { normaliseInBoxes } from '../src/render/box-normalise.js';
import { groupByBox } from '../src/render/label-layout.js';
import { renderFrame } from '../src/render/index.js';
import { mapStats } from '../src/saliency/stats.js';
import type { Detection, Frame, SaliencyMap } from '../src/types.js';
import { openDecoder } from '../src/video/index.js';
import { clipPath } from './helpers/clips.js';
import { stillFrame } from './helpers/frames.js';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ backend: 'wasm' });
});
afterAll(() => engine?.dispose());

type R = { x0: number; y0: number; x1: number; y1: number };
const overlap = (a: R, b: R) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

async function allFrames(): Promise<Frame[]> {
  const d = await openDecoder(clipPath('test_video.mp4'));
  const out: Frame[] = [];
  for await (const f of d) out.push(f);
  await d.close();
  return out;
}

describe('label plates', () => {
  it('test1.jpg: the white car box carries one plate for car and truck', async () => {
    const r = await engine.explain(await stillFrame('test1.jpg'), { maxTargets: 0 });
    const { labels } = layoutBoxes(r.detections, 1, 1, r.frame.width, r.frame.height);
    expect(r.detections.length).toBe(3);
    expect(labels.length).toBe(2);
    expect(labels.map((l) => l.drawing.body).join()).toMatch(/car 0\.70 · truck 0\.34/);
  });

  it('no plate overlaps another on any of the 38 frames of the sample drive (at the default threshold and at 0.1)', async () => {
    const frames = await allFrames();
    expect(frames.length).toBe(38);
    let plates = 0;
    let naiveCollisions = 0;
    for (const minScore of [0.3, 0.1]) {
      for (const f of frames) {
        const r = await engine.explain(f, { maxTargets: 0, minScore });
        await renderFrame(r, { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true });
        const { plateRects } = layoutBoxes(r.detections, 1, 1, f.width, f.height);
        expect(plateRects.length).toBe(groupByBox(r.detections).filter((g) => scaledBox(g.members[0]!, 1, 1, f.width, f.height)).length);
        plates += plateRects.length;
        for (const [i, a] of plateRects.entries()) {
          expect(a.x0).toBeGreaterThanOrEqual(0);
          expect(a.y0).toBeGreaterThanOrEqual(0);
          expect(a.x1).toBeLessThanOrEqual(f.width);
          expect(a.y1).toBeLessThanOrEqual(f.height);
          for (const b of plateRects.slice(i + 1)) expect(overlap(a, b), `frame ${f.index} at ${minScore}`).toBe(false);
        }
        // What the old placement (every plate above its own box) would have done: the test has collisions to avoid.
        const style = boxStyleFor(f.width, f.height);
        const naive = r.detections.map((d: Detection) => {
          const b = scaledBox(d, 1, 1, f.width, f.height)!;
          const p = labelPlate(b, `${d.label} ${d.score.toFixed(2)}`, style, f.width, f.height);
          return { x0: p.x, y0: p.y, x1: p.x + p.w, y1: p.y + p.h };
        });
        naive.forEach((a, i) => naive.slice(i + 1).forEach((b) => (naiveCollisions += overlap(a, b) ? 1 : 0)));
      }
    }
    console.log(`${plates} plates over 76 renders, none overlapping (placing each above its box would overlap ${naiveCollisions} pairs)`);
    expect(naiveCollisions).toBeGreaterThan(10);
  }, 300_000);
});

describe('--normalise box', () => {
  it('scales each box to its own maximum and clears the rest (synthetic)', () => {
    const data = new Float32Array(100);
    data[2 * 10 + 2] = 1; // strong object
    data[7 * 10 + 7] = 0.2; // weak object
    data[5 * 10 + 0] = 0.5; // outside every box
    const m: SaliencyMap = { label: 'car', classId: 2, width: 10, height: 10, data };
    const dets: Detection[] = [
      { label: 'car', classId: 2, score: 0.9, box: [10, 10, 40, 40] },
      { label: 'car', classId: 2, score: 0.4, box: [60, 60, 90, 90] },
    ];
    const [out] = normaliseInBoxes([m], dets, 100, 100);
    expect(out!.data[2 * 10 + 2]).toBe(1);
    expect(out!.data[7 * 10 + 7]).toBe(1);
    expect(out!.data[5 * 10 + 0]).toBe(0);
  });

  it('test4.jpg: the 0.54 car, dim in the global car map, reaches full scale in its box', async () => {
    const r = await engine.explain(await stillFrame('test4.jpg'), { classes: ['car'] });
    const weak = r.detections.reduce((a, b) => (b.score < a.score ? b : a));
    const car = r.maps.find((m) => m.label === 'car')!;
    const maxIn = (m: SaliencyMap) => {
      const sx = m.width / r.frame.width;
      const sy = m.height / r.frame.height;
      let v = 0;
      for (let y = Math.ceil(weak.box[1] * sy); y < Math.floor(weak.box[3] * sy); y++) for (let x = Math.ceil(weak.box[0] * sx); x < Math.floor(weak.box[2] * sx); x++) v = Math.max(v, m.data[y * m.width + x]!);
      return v;
    };
    const [boxed] = normaliseInBoxes([car], r.detections, r.frame.width, r.frame.height);
    expect(r.detections.length).toBeGreaterThanOrEqual(2);
    expect(maxIn(car)).toBeLessThan(0.6);
    expect(maxIn(boxed!)).toBeGreaterThan(0.99);
    // Every box of the class gets its own peak inside it.
    for (const d of r.detections) expect(mapStats(boxed!, [d.box], r.frame.width, r.frame.height).energyInBoxes).toBeGreaterThan(0);
    const png = await renderFrame(r, { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true, normalise: 'box' });
    expect(png.rgb.length).toBe(r.frame.width * r.frame.height * 3);
  }, 60_000);
});
