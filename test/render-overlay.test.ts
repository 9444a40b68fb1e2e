import { mkdirSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { renderFrame } from '../src/render/overlay.js';
import { encodeImage } from '../src/render/encode.js';
import { colorAt } from '../src/render/colormap.js';
import { classColor } from '../src/render/class-colors.js';
import { legendRect } from '../src/render/legend.js';
import { boxStyleFor, detectionText, labelPlate } from '../src/render/boxes.js';
import { resizeRgba, upsamplePatches, usesTwoStages, warmRegions } from '../src/render/upsample.js';
import { colorize } from '../src/render/colormap.js';
import { UserError } from '../src/errors.js';
import { STRIPS_CFG } from '../src/render/raster.js';
import type { Detection, Frame, RenderOptions } from '../src/types.js';
import { TEST1_CARS, explained, flatMap, gaussMap, loadFrame, px } from './render-fixtures.js';
import { renderBlendReference } from './helpers/render-reference.js';

const BLEND: RenderOptions = { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true };
const PLAIN: RenderOptions = { ...BLEND, boxes: false, legend: false };

let frame: Frame;
beforeAll(async () => {
  frame = await loadFrame('test1.jpg');
  mkdirSync('test-artifacts', { recursive: true });
});

/** Largest per-channel difference between two RGB buffers over a rectangle, skipping `skip` rectangles. */
function maxDiff(
  a: Uint8Array,
  b: Uint8Array,
  width: number,
  r: { x0: number; y0: number; x1: number; y1: number },
  skip: Array<{ left: number; top: number; width: number; height: number }> = [],
): number {
  let m = 0;
  for (let y = r.y0; y < r.y1; y++) {
    for (let x = r.x0; x < r.x1; x++) {
      if (skip.some((s) => x >= s.left && x < s.left + s.width && y >= s.top && y < s.top + s.height)) continue;
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        m = Math.max(m, Math.abs(a[i]! - b[i]!));
      }
    }
  }
  return m;
}

function meanDiff(a: Uint8Array, b: Uint8Array, width: number, r: { x0: number; y0: number; x1: number; y1: number }) {
  let sum = 0;
  let n = 0;
  for (let y = r.y0; y < r.y1; y++) {
    for (let x = r.x0; x < r.x1; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        sum += Math.abs(a[i]! - b[i]!);
        n++;
      }
    }
  }
  return sum / n;
}

describe('renderFrame blend view', () => {
  it('colours a hot spot strongly and leaves a far, cold quadrant untouched', async () => {
    const { width: W, height: H } = frame;
    // Hot spot centred on a map pixel centre in the top-left quadrant.
    const cx = 32.5 / 128;
    const cy = 32.5 / 128;
    const ex = explained(frame, [], [gaussMap('car', 2, cx, cy, 0.05)]);
    const out = await renderFrame(ex, BLEND);
    expect(out.width).toBe(W);
    expect(out.height).toBe(H);
    expect(out.rgb.length).toBe(W * H * 3);

    const spot = { x0: Math.round(cx * W) - 20, y0: Math.round(cy * H) - 20, x1: Math.round(cx * W) + 20, y1: Math.round(cy * H) + 20 };
    expect(meanDiff(out.rgb, frame.rgb, W, spot)).toBeGreaterThan(40);

    // At the peak the output is the alpha blend of Turbo's top colour over the frame.
    const x = Math.round(cx * W - 0.5);
    const y = Math.round(cy * H - 0.5);
    const top = colorAt('turbo', 1);
    const src = px(frame.rgb, W, x, y);
    const got = px(out.rgb, W, x, y);
    for (let c = 0; c < 3; c++) expect(Math.abs(got[c]! - (src[c]! * 0.4 + top[c]! * 0.6))).toBeLessThanOrEqual(4);

    // Bottom-right quadrant: map is 0 there, so only the legend may change pixels.
    const legend = legendRect(W, H, 'xgradcam')!;
    expect(legend).not.toBeNull();
    const far = { x0: W / 2, y0: H / 2, x1: W, y1: H };
    expect(maxDiff(out.rgb, frame.rgb, W, far, [legend])).toBeLessThanOrEqual(2);
    // …and the legend did draw something.
    expect(maxDiff(out.rgb, frame.rgb, W, { x0: legend.left, y0: legend.top, x1: legend.left + legend.width, y1: legend.top + legend.height })).toBeGreaterThan(100);

    writeFileSync('test-artifacts/render-hotspot.png', await encodeImage(out, 'png'));
  });

  it('combines maps by per-pixel maximum', async () => {
    const a = gaussMap('car', 2, 0.3, 0.5, 0.08);
    const b = gaussMap('person', 0, 0.5, 0.5, 0.08);
    const max = { ...a, data: a.data.map((v, i) => Math.max(v, b.data[i]!)) };
    const both = await renderFrame(explained(frame, [], [a, b]), PLAIN);
    const single = await renderFrame(explained(frame, [], [max]), PLAIN);
    expect(Buffer.compare(Buffer.from(both.rgb), Buffer.from(single.rgb))).toBe(0);
    // Not a sum: where the two overlap, the colour is no hotter than the larger map alone.
    const onlyA = await renderFrame(explained(frame, [], [a]), PLAIN);
    const { width: W, height: H } = frame;
    const ax = { x0: Math.round(0.3 * W) - 10, y0: H / 2 - 10, x1: Math.round(0.3 * W) + 10, y1: H / 2 + 10 };
    expect(maxDiff(both.rgb, onlyA.rgb, W, ax)).toBeLessThanOrEqual(2);
  });

  it('draws boxes in the class colour at the box edges, with a readable label plate', async () => {
    const { width: W, height: H } = frame;
    const det: Detection = { label: 'car', classId: 2, score: 0.91, box: [300, 300, 500, 450] };
    const out = await renderFrame(explained(frame, [det], []), { ...PLAIN, boxes: true });
    const color = classColor(2).rgb;
    for (const [x, y] of [
      [300, 375], // left edge
      [499, 375], // right edge
      [400, 449], // bottom edge
      [400, 300], // top edge
    ] as const) {
      const got = px(out.rgb, W, x, y);
      for (let c = 0; c < 3; c++) expect(Math.abs(got[c]! - color[c]!), `edge at ${x},${y}`).toBeLessThanOrEqual(2);
    }
    // Inside the box the frame shows through unchanged.
    expect(px(out.rgb, W, 400, 375)).toEqual(px(frame.rgb, W, 400, 375));

    // The plate sits above the box; white glyphs must show on it, not just the dark fill.
    const plate = labelPlate({ x: 300, y: 300, w: 200, h: 150 }, detectionText(det), boxStyleFor(W, H), W, H);
    expect(plate.y + plate.h).toBe(300);
    let bright = 0;
    let dark = 0;
    for (let y = plate.y; y < plate.y + plate.h; y++) {
      for (let x = plate.x + plate.stripe; x < plate.x + plate.w; x++) {
        const [r, g, b] = px(out.rgb, W, x, y);
        if (Math.min(r, g, b) > 200) bright++;
        if (Math.max(r, g, b) < 70) dark++;
      }
    }
    expect(bright).toBeGreaterThan(40);
    expect(dark).toBeGreaterThan(bright);
  });

  it('keeps label plates above other boxes’ outlines and outlines above the map', async () => {
    const { width: W, height: H } = frame;
    const a: Detection = { label: 'car', classId: 2, score: 0.9, box: [300, 300, 500, 450] };
    // b's left edge runs straight through a's plate.
    const b: Detection = { label: 'person', classId: 0, score: 0.7, box: [340, 250, 420, 500] };
    const hot = gaussMap('car', 2, 400 / W, 375 / H, 0.1);
    const out = await renderFrame(explained(frame, [a, b], [hot]), { ...PLAIN, boxes: true });
    const plate = labelPlate({ x: 300, y: 300, w: 200, h: 150 }, detectionText(a), boxStyleFor(W, H), W, H);
    expect(plate.x + plate.w).toBeGreaterThan(342);
    const inPlate = px(out.rgb, W, 341, plate.y + 2);
    expect(Math.max(...inPlate)).toBeLessThan(90); // dark plate, not the person colour
    const onEdge = px(out.rgb, W, 341, 470); // b's left edge below the plate, over the hot map
    const person = classColor(0).rgb;
    for (let c = 0; c < 3; c++) expect(Math.abs(onEdge[c]! - person[c]!)).toBeLessThanOrEqual(2);
  });

  it('with no maps, boxes or legend returns the frame unchanged (as a copy)', async () => {
    const out = await renderFrame(explained(frame, TEST1_CARS, []), PLAIN);
    expect(Buffer.compare(Buffer.from(out.rgb), Buffer.from(frame.rgb))).toBe(0);
    expect(out.rgb.buffer === frame.rgb.buffer).toBe(false);
  });

  it('places maps of any resolution and aspect over the whole frame', async () => {
    const { width: W, height: H } = frame;
    // 40x10 map, one hot cell at column 30, row 7 → centred at (30.5/40, 7.5/10) of the frame.
    const m = flatMap('car', 2, 0, 40, 10);
    m.data[7 * 40 + 30] = 1;
    const out = await renderFrame(explained(frame, [], [m]), PLAIN);
    const hx = Math.round((30.5 / 40) * W);
    const hy = Math.round((7.5 / 10) * H);
    expect(meanDiff(out.rgb, frame.rgb, W, { x0: hx - 5, y0: hy - 5, x1: hx + 5, y1: hy + 5 })).toBeGreaterThan(30);
    expect(maxDiff(out.rgb, frame.rgb, W, { x0: 0, y0: 0, x1: W / 2, y1: H / 2 })).toBe(0);
  });

  it('upsamples only the warm parts, separately per area, identically to a full resize', async () => {
    const a = gaussMap('car', 2, 0.7, 0.3, 0.04);
    const b = gaussMap('person', 0, 0.2, 0.7, 0.04);
    const data = a.data.map((v, i) => Math.max(v, b.data[i]!));
    const rgba = colorize(data, 128, 128, 'jet', 0.7, 1.5);
    const full = await resizeRgba(rgba, 128, 128, 1280, 720);
    const patches = await upsamplePatches(rgba, 128, 128, 1280, 720);
    expect(patches.length).toBe(2);
    expect(patches.reduce((s, p) => s + p.width * p.height, 0)).toBeLessThan((1280 * 720) / 4);
    // Compare premultiplied (what gets composited): colour under alpha 0 is arbitrary after libvips unpremultiplies.
    let worst = 0;
    let droppedVisible = 0;
    for (let y = 0; y < 720; y++) {
      for (let x = 0; x < 1280; x++) {
        const i = (y * 1280 + x) * 4;
        const p = patches.find((q) => x >= q.left && x < q.left + q.width && y >= q.top && y < q.top + q.height);
        if (!p) {
          if (full[i + 3] !== 0) droppedVisible++;
          continue;
        }
        const j = ((y - p.top) * p.width + (x - p.left)) * 4;
        for (let c = 0; c < 3; c++) {
          worst = Math.max(worst, Math.abs(full[i + c]! * full[i + 3]! - p.data[j + c]! * p.data[j + 3]!) / 255);
        }
        worst = Math.max(worst, Math.abs(full[i + 3]! - p.data[j + 3]!));
      }
    }
    expect(droppedVisible).toBe(0);
    expect(worst).toBeLessThanOrEqual(2);
    expect(await upsamplePatches(new Uint8Array(128 * 128 * 4), 128, 128, 1280, 720)).toEqual([]);
  });

  it('finds separate warm areas at map resolution and merges those that touch', () => {
    const rgba = new Uint8Array(20 * 10 * 4);
    const warm = (x: number, y: number) => (rgba[(y * 20 + x) * 4 + 3] = 9);
    warm(2, 2);
    warm(3, 3); // diagonal neighbour: same area
    warm(15, 7);
    expect(warmRegions(rgba, 20, 10)).toEqual([
      { x0: 0, y0: 0, x1: 6, y1: 6 },
      { x0: 13, y0: 5, x1: 18, y1: 10 },
    ]);
    warm(7, 4); // not adjacent, but its margin overlaps the first area's: merged
    expect(warmRegions(rgba, 20, 10)).toEqual([
      { x0: 0, y0: 0, x1: 10, y1: 7 },
      { x0: 13, y0: 5, x1: 18, y1: 10 },
    ]);
  });

  it('rejects bad options with a UserError', async () => {
    const ex = explained(frame, [], []);
    await expect(renderFrame(ex, { ...BLEND, alpha: 1.5 })).rejects.toThrow(UserError);
    await expect(renderFrame(ex, { ...BLEND, alpha: Number.NaN })).rejects.toThrow(UserError);
    await expect(renderFrame(ex, { ...BLEND, colormap: 'rainbow' as never })).rejects.toThrow(/colormap/);
    const broken = { ...frame, rgb: frame.rgb.subarray(0, 10) };
    await expect(renderFrame(explained(broken, [], []), BLEND)).rejects.toThrow(/expected 1280x720x3/);
  });

  it('renders a readable example of the real scene', async () => {
    const dets: Detection[] = [...TEST1_CARS, { label: 'truck', classId: 7, score: 0.55, box: [58, 443, 143, 490] }];
    const car = gaussMap('car', 2, 0.69, 0.62, 0.04);
    const car2 = gaussMap('car', 2, 0.9, 0.63, 0.06);
    for (let i = 0; i < car.data.length; i++) car.data[i] = Math.max(car.data[i]!, car2.data[i]! * 0.8);
    const out = await renderFrame(explained(frame, dets, [car, gaussMap('truck', 7, 0.08, 0.64, 0.03)]), BLEND);
    const png = await encodeImage(out, 'png');
    writeFileSync('test-artifacts/render-blend.png', png);
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height]).toEqual([frame.width, frame.height]);
  });
});

describe('strip-parallel compositing', () => {
  it('gives the same pixels whatever the number of strips', async () => {
    const f = await loadFrame('test3.jpg');
    const dets: Detection[] = [
      { label: 'car', classId: 2, score: 0.8, box: [100, 200, 700, 600] }, // crosses strip boundaries
      { label: 'person', classId: 0, score: 0.6, box: [900, 50, 1000, 300] },
    ];
    const maps = [gaussMap('car', 2, 0.3, 0.55, 0.15), gaussMap('person', 0, 0.74, 0.25, 0.05, 64, 36)];
    const ex = explained(f, dets, maps);
    const saved = STRIPS_CFG.n;
    // Strips are the libvips path's (upsampling and compositing, as the grid view uses them); the blend view
    // itself now blends in one pass (test/render-fast.test.ts), so the libvips blend is the reference's.
    try {
      STRIPS_CFG.n = 1;
      const one = { rgb: await renderBlendReference(ex, BLEND) };
      for (const n of [2, 3, 4]) {
        STRIPS_CFG.n = n;
        const many = { rgb: await renderBlendReference(ex, BLEND) };
        // Same libvips maths per pixel; SVG rasterised separately may differ by a rounding step.
        expect(maxDiff(many.rgb, one.rgb, f.width, { x0: 0, y0: 0, x1: f.width, y1: f.height }), `strips=${n}`).toBeLessThanOrEqual(1);
      }
    } finally {
      STRIPS_CFG.n = saved;
    }
  });
});

describe('two-stage upsampling', () => {
  it('is used for large upscales and stays within a few levels of full-size bilinear', async () => {
    expect(usesTwoStages(128, 128, 1280, 720)).toBe(true);
    expect(usesTwoStages(128, 128, 640, 360)).toBe(false);
    expect(usesTwoStages(128, 128, 1281, 720)).toBe(false);
    const m = gaussMap('car', 2, 0.4, 0.5, 0.06);
    const rgba = colorize(m.data, 128, 128, 'turbo', 0.8, 1.5);
    const two = await resizeRgba(rgba, 128, 128, 1280, 720);
    const one = await sharp(Buffer.from(rgba), { raw: { width: 128, height: 128, channels: 4 } })
      .resize(1280, 720, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    let worst = 0;
    let sum = 0;
    for (let i = 0; i < 1280 * 720 * 4; i += 4) {
      worst = Math.max(worst, Math.abs(two[i + 3]! - one[i + 3]!));
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(two[i + c]! * two[i + 3]! - one[i + c]! * one[i + 3]!) / 255;
        worst = Math.max(worst, d);
        sum += d;
      }
    }
    expect(worst).toBeLessThanOrEqual(10);
    expect(sum / (1280 * 720 * 3)).toBeLessThan(0.5);
  });
});

describe('speckled maps', () => {
  it('fall back to one bounding area instead of planning hundreds of patches', async () => {
    const rgba = new Uint8Array(128 * 128 * 4);
    for (let y = 2; y < 128; y += 6) for (let x = 2; x < 128; x += 6) rgba[(y * 128 + x) * 4 + 3] = 200;
    const regions = warmRegions(rgba, 128, 128);
    expect(regions).toEqual([{ x0: 0, y0: 0, x1: 125, y1: 125 }]);
  });
});
