import { mkdirSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { renderFrame } from '../src/render/overlay.js';
import { encodeImage } from '../src/render/encode.js';
import { gridLayout } from '../src/render/grid.js';
import { legendRect } from '../src/render/legend.js';
import { boxStyleFor, labelPlate } from '../src/render/boxes.js';
import type { Frame, RenderOptions } from '../src/types.js';
import { TEST1_CARS, explained, gaussMap, loadFrame, px } from './render-fixtures.js';

const GRID: RenderOptions = { colormap: 'viridis', alpha: 0.7, view: 'grid', boxes: true, legend: true };

let frame: Frame;
beforeAll(async () => {
  frame = await loadFrame('test1.jpg');
  mkdirSync('test-artifacts', { recursive: true });
});

function meanLuma(rgb: Uint8Array, width: number, x0: number, y0: number, w: number, h: number): number {
  let s = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const [r, g, b] = px(rgb, width, x, y);
      s += (r + g + b) / 3;
    }
  }
  return s / (w * h);
}

describe('gridLayout', () => {
  it('fits n tiles of the frame’s aspect inside the frame without overlap', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 9, 10]) {
      const g = gridLayout(n, 1280, 720);
      expect(g.cells.length).toBe(n);
      expect(g.cols * g.rows).toBeGreaterThanOrEqual(n);
      expect(Math.abs(g.tileW / g.tileH - 1280 / 720)).toBeLessThan(0.02);
      for (const c of g.cells) {
        expect(c.left).toBeGreaterThanOrEqual(0);
        expect(c.top).toBeGreaterThanOrEqual(0);
        expect(c.left + g.tileW).toBeLessThanOrEqual(1280);
        expect(c.top + g.tileH).toBeLessThanOrEqual(720);
      }
      const keys = new Set(g.cells.map((c) => `${c.left},${c.top}`));
      expect(keys.size).toBe(n);
    }
    expect(gridLayout(1, 1280, 720)).toMatchObject({ tileW: 1280, tileH: 720 });
    expect(gridLayout(4, 1280, 720)).toMatchObject({ cols: 2, rows: 2, tileW: 640, tileH: 360 });
  });
});

describe('renderFrame grid view', () => {
  it('keeps the frame size and shows the frame plus one dimmed tile per map', async () => {
    const { width: W, height: H } = frame;
    const maps = [gaussMap('car', 2, 0.7, 0.62, 0.05), gaussMap('truck', 7, 0.1, 0.64, 0.04), gaussMap('person', 0, 0.48, 0.2, 0.05)];
    const dets = [...TEST1_CARS, { label: 'person', classId: 0, score: 0.4, box: [600, 100, 640, 200] as [number, number, number, number] }];
    const out = await renderFrame(explained(frame, dets, maps), GRID);
    expect([out.width, out.height]).toEqual([W, H]);
    expect(out.rgb.length).toBe(W * H * 3);

    const g = gridLayout(4, W, H);
    const small = await sharp(Buffer.from(frame.rgb), { raw: { width: W, height: H, channels: 3 } })
      .resize(g.tileW, g.tileH, { fit: 'fill' })
      .raw()
      .toBuffer();
    // A patch of road, cold in every map, away from boxes, titles and the legend.
    const road = { x: Math.round(g.tileW * 0.45), y: Math.round(g.tileH * 0.8), w: 40, h: 30 };
    const ref = meanLuma(small, g.tileW, road.x, road.y, road.w, road.h);
    const tileLuma = g.cells.map((c) => meanLuma(out.rgb, W, c.left + road.x, c.top + road.y, road.w, road.h));
    expect(Math.abs(tileLuma[0]! - ref)).toBeLessThan(2);
    for (const l of tileLuma.slice(1)) expect(Math.abs(l - ref * 0.5)).toBeLessThan(3);

    // Each map tile is hot where its own map is, and only there.
    const hot = (tile: number, fx: number, fy: number) => {
      const c = g.cells[tile]!;
      const x = c.left + Math.round(fx * g.tileW);
      const y = c.top + Math.round(fy * g.tileH);
      return meanLuma(out.rgb, W, x - 4, y - 4, 8, 8) - meanLuma(small, g.tileW, x - c.left - 4, y - c.top - 4, 8, 8) * 0.5;
    };
    expect(hot(1, 0.7, 0.62)).toBeGreaterThan(40); // car tile, car spot
    expect(Math.abs(hot(1, 0.48, 0.2))).toBeLessThan(3); // car tile, person spot: cold
    expect(hot(2, 0.1, 0.64)).toBeGreaterThan(40);
    expect(hot(3, 0.48, 0.2)).toBeGreaterThan(40);

    // Every tile carries a title plate with white text in its top-left corner.
    const titles = ['frame', 'car', 'truck', 'person'];
    const style = boxStyleFor(g.tileW, g.tileH);
    g.cells.forEach((c, i) => {
      const p = labelPlate({ x: 0, y: 0, w: g.tileW, h: g.tileH }, titles[i]!, style, g.tileW, g.tileH);
      let bright = 0;
      for (let y = c.top + p.y; y < c.top + p.y + p.h; y++) {
        for (let x = c.left + p.x + p.stripe; x < c.left + p.x + p.w; x++) {
          const [r, gg, b] = px(out.rgb, W, x, y);
          if (Math.min(r, gg, b) > 170) bright++;
        }
      }
      expect(bright, `title of tile ${i}`).toBeGreaterThan(12);
    });
    writeFileSync('test-artifacts/render-grid.png', await encodeImage(out, 'png'));
  });

  it('leaves unused cells black and draws the legend there', async () => {
    const { width: W, height: H } = frame;
    const out = await renderFrame(explained(frame, [], [gaussMap('car', 2, 0.5, 0.5), gaussMap('bus', 5, 0.2, 0.2)]), GRID);
    const g = gridLayout(3, W, H);
    const legend = legendRect(W, H, 'xgradcam')!;
    // Fourth cell (bottom-right) is empty: black except the legend.
    expect(meanLuma(out.rgb, W, g.tileW + 10, g.tileH + 10, 100, 100)).toBe(0);
    expect(meanLuma(out.rgb, W, legend.left, legend.top, legend.width, legend.height)).toBeGreaterThan(10);
  });

  it('with no maps shows the whole frame as the single tile', async () => {
    const out = await renderFrame(explained(frame, [], []), { ...GRID, legend: false });
    const { width: W } = frame;
    // Away from the title plate the frame is untouched.
    expect(px(out.rgb, W, 640, 500)).toEqual(px(frame.rgb, W, 640, 500));
    expect(px(out.rgb, W, 1200, 700)).toEqual(px(frame.rgb, W, 1200, 700));
  });
});

describe('small and odd inputs', () => {
  it('renders tiny frames in both views without failing (legend left out when it does not fit)', async () => {
    const rgb = new Uint8Array(40 * 30 * 3).fill(90);
    const tiny = { index: 3, time: 0.12, width: 40, height: 30, rgb };
    const dets = [{ label: 'car', classId: 2, score: 0.9, box: [-5, 2, 30, 50] as [number, number, number, number] }];
    const maps = [gaussMap('car', 2, 0.5, 0.5, 0.2, 8, 8), gaussMap('person', 0, 0.2, 0.2, 0.2, 16, 4), gaussMap('bus', 5, 0.8, 0.8)];
    for (const view of ['blend', 'grid'] as const) {
      const out = await renderFrame(explained(tiny, dets, maps), { ...GRID, view });
      expect([out.width, out.height, out.rgb.length]).toEqual([40, 30, 40 * 30 * 3]);
      expect(out.rgb.some((v) => v !== 90)).toBe(true);
    }
  });

  it('titles per-detection tiles with the detection index', async () => {
    const { width: W } = frame;
    const maps = [
      gaussMap('car', 2, 0.69, 0.62, 0.04, 128, 128, { detectionIndex: 0 }),
      gaussMap('car', 2, 0.9, 0.63, 0.05, 128, 128, { detectionIndex: 1 }),
    ];
    const out = await renderFrame(explained(frame, TEST1_CARS, maps), { ...GRID, legend: false });
    const g = gridLayout(3, W, frame.height);
    const style = boxStyleFor(g.tileW, g.tileH);
    // "car #1" is wider than "car": its plate must carry text further right than a bare "car" plate ends.
    const short = labelPlate({ x: 0, y: 0, w: g.tileW, h: g.tileH }, 'car', style, g.tileW, g.tileH);
    const c = g.cells[2]!;
    let brightPastShort = 0;
    for (let y = c.top; y < c.top + short.h; y++) {
      for (let x = c.left + short.w; x < c.left + short.w + 30; x++) {
        const [r, gg, b] = px(out.rgb, W, x, y);
        if (Math.min(r, gg, b) > 170) brightPastShort++;
      }
    }
    expect(brightPastShort).toBeGreaterThan(5);
  });
});
