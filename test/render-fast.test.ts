// The fused blend pass and the SVG raster cache against the previous renderer (test/helpers/render-reference.ts), on
// real frames of the sample drive with CAM-like maps: the same pixels to within libvips' rounding.
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { renderFrame } from '../src/render/overlay.js';
import { clearSvgCache, rasteriseSvg, svgCacheStats, svgDocument } from '../src/render/svg-cache.js';
import { layoutBoxes } from '../src/render/boxes.js';
import { legendDrawing } from '../src/render/legend.js';
import { openDecoder } from '../src/video/decode.js';
import type { Detection, Frame, RenderOptions, SaliencyMap } from '../src/types.js';
import { CLIPS, explained, loadFrame } from './render-fixtures.js';
import { renderBlendReference } from './helpers/render-reference.js';

const BLEND: RenderOptions = { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true };

/** A CAM-like map: a faint floor plus Gaussian blobs at (cx, cy, sigma, peak), as fractions of the frame. */
function camMap(label: string, classId: number, blobs: number[][], w = 64, h = 64, floor = 0.08): SaliencyMap {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = floor * (0.5 + 0.5 * Math.sin(x * 0.7 + y * 0.3));
      for (const [cx, cy, s, peak] of blobs) {
        const dx = (x + 0.5) / w - cx!;
        const dy = (y + 0.5) / h - cy!;
        v = Math.max(v, peak! * Math.exp(-(dx * dx + dy * dy) / (2 * s! * s!)));
      }
      data[y * w + x] = v;
    }
  }
  return { label, classId, width: w, height: h, data };
}

const MAPS = [
  camMap('car', 2, [[0.68, 0.62, 0.05, 1], [0.85, 0.6, 0.07, 0.8]]),
  camMap('truck', 7, [[0.3, 0.55, 0.09, 0.7]]),
];

/** Plates at typical places, including one clipped at the top edge and two that overlap. */
function detections(seed: number): Detection[] {
  return [
    { label: 'car', classId: 2, score: 0.91 - seed * 0.01, box: [815, 410, 942, 492] },
    { label: 'car', classId: 2, score: 0.64, box: [850, 420, 990, 500] },
    { label: 'truck', classId: 7, score: 0.55 + seed * 0.02, box: [300, 0, 520, 260] },
    { label: 'traffic light', classId: 9, score: 0.41, box: [10, 5, 40, 70] },
  ];
}

function diff(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.length, max };
}

let frames: Frame[] = [];
beforeAll(async () => {
  const d = await openDecoder(join(CLIPS, 'test_video.mp4'));
  let i = 0;
  for await (const f of d) {
    if (i++ % 15 === 0) frames.push({ ...f, rgb: Buffer.from(f.rgb) });
    if (frames.length === 3) break;
  }
  await d.close();
});

afterEach(() => clearSvgCache());

describe('blend view against the previous renderer', () => {
  it('matches it on frames of test_video.mp4 (two 64x64 maps, boxes, legend)', async () => {
    expect(frames.length).toBe(3);
    for (const [k, frame] of frames.entries()) {
      const ex = explained(frame, detections(k), MAPS);
      const now = (await renderFrame(ex, BLEND)).rgb;
      const before = await renderBlendReference(ex, BLEND);
      const d = diff(now, before);
      expect(d.mean).toBeLessThan(0.05);
      expect(d.max).toBeLessThanOrEqual(4);
      // The overlay is really there: far from the frame itself.
      expect(diff(now, frame.rgb).mean).toBeGreaterThan(5);
    }
  });

  it('matches it for a 128x128 map, other colormaps and alphas, and without boxes or legend', async () => {
    const frame = frames[1]!;
    const hot = camMap('car', 2, [[0.2, 0.3, 0.04, 1], [0.75, 0.7, 0.12, 0.9]], 128, 128);
    for (const opts of [
      { ...BLEND, colormap: 'jet', alpha: 1 },
      { ...BLEND, colormap: 'viridis', alpha: 0.35, boxes: false },
      { ...BLEND, colormap: 'inferno', alpha: 0.8, legend: false },
    ] as RenderOptions[]) {
      const ex = explained(frame, detections(1), [hot]);
      const d = diff((await renderFrame(ex, opts)).rgb, await renderBlendReference(ex, opts));
      expect(d.mean).toBeLessThan(0.05);
      expect(d.max).toBeLessThanOrEqual(4);
    }
  });

  it('matches it where upsampling is one stage (odd frame size) and for a map at frame size', async () => {
    const still = await loadFrame('test2.jpg');
    const { data, info } = await sharp(Buffer.from(still.rgb), { raw: { width: still.width, height: still.height, channels: 3 } })
      .resize(641, 361, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const odd: Frame = { index: 0, time: 0, width: info.width, height: info.height, rgb: new Uint8Array(data) };
    for (const m of [MAPS[0]!, camMap('car', 2, [[0.5, 0.5, 0.1, 1]], 641, 361)]) {
      const ex = explained(odd, [], [m]);
      const d = diff((await renderFrame(ex, BLEND)).rgb, await renderBlendReference(ex, BLEND));
      expect(d.mean).toBeLessThan(0.05);
      expect(d.max).toBeLessThanOrEqual(4);
    }
  });

  it('leaves a frame untouched where the map is cold', async () => {
    const frame = frames[0]!;
    const ex = explained(frame, [], [camMap('car', 2, [], 64, 64, 0)]);
    const out = (await renderFrame(ex, { ...BLEND, legend: false })).rgb;
    expect(Buffer.compare(Buffer.from(out), Buffer.from(frame.rgb))).toBe(0);
  });
});

describe('SVG raster cache', () => {
  it('rasterises drawings asked for together (one librsvg document) exactly as each on its own', async () => {
    clearSvgCache();
    const drawings = [
      ...layoutBoxes(detections(2), 1, 1, 1280, 720).labels.map((l) => l.drawing),
      legendDrawing(1280, 720, 'xgradcam', 'turbo'),
      legendDrawing(1280, 720, 'xgradcam', 'jet'),
    ];
    const together = await Promise.all(drawings.map(rasteriseSvg));
    for (const [k, d] of drawings.entries()) {
      const { data, info } = await sharp(Buffer.from(svgDocument(d))).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([together[k]!.width, together[k]!.height]).toEqual([info.width, info.height]);
      expect(Buffer.compare(together[k]!.data, data)).toBe(0);
    }
    // The two legends differ only in their gradient: each kept its own.
    expect(Buffer.compare(together.at(-1)!.data, together.at(-2)!.data)).not.toBe(0);
  });

  it('gives the same pixels cached and uncached', async () => {
    const ex = explained(frames[2]!, detections(3), MAPS);
    clearSvgCache();
    const cold = (await renderFrame(ex, BLEND)).rgb;
    expect(svgCacheStats().entries).toBe(detections(3).length + 1); // plates + legend
    const warm = (await renderFrame(ex, BLEND)).rgb;
    expect(Buffer.compare(Buffer.from(cold), Buffer.from(warm))).toBe(0);
  });

  it('stays within its entry and byte bounds and keeps rendering correctly past them', async () => {
    clearSvgCache({ entries: 6, bytes: 16 << 20 });
    const frame = frames[0]!;
    // 40 distinct scores: far more distinct plates than the cache may hold.
    for (let s = 0; s < 40; s++) {
      const dets: Detection[] = [{ label: 'car', classId: 2, score: 0.5 + s / 100, box: [815, 410, 942, 492] }];
      const ex = explained(frame, dets, MAPS);
      const now = (await renderFrame(ex, BLEND)).rgb;
      expect(svgCacheStats().entries).toBeLessThanOrEqual(6);
      if (s % 13 === 0) expect(diff(now, await renderBlendReference(ex, BLEND)).max).toBeLessThanOrEqual(4);
    }
    clearSvgCache({ entries: 512, bytes: 20_000 }); // about one legend
    const ex = explained(frame, detections(0), MAPS);
    const out = (await renderFrame(ex, BLEND)).rgb;
    expect(svgCacheStats().bytes).toBeLessThanOrEqual(20_000);
    expect(diff(out, await renderBlendReference(ex, BLEND)).max).toBeLessThanOrEqual(4);
    clearSvgCache();
  });
});
