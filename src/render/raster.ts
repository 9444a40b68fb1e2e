// Compositing layers over a frame. Every pass over frame-sized pixels happens in libvips, never in a
// JavaScript loop; JavaScript only plans which rectangles to process and copies or fills whole rows.

import { availableParallelism } from 'node:os';
import sharp, { type OverlayOptions } from 'sharp';
import { area, cluster, subtract, type Rect } from './rects.js';

/** View a typed array as a Buffer without copying (sharp's typings want Buffers). */
export function asBuffer(a: Uint8Array): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A composite input whose placement and size are known up front, so untouched areas can be skipped. */
export interface Layer {
  input: Buffer;
  /** Set for raw RGBA input; absent for encoded input (SVG). */
  raw?: { width: number; height: number; channels: 4 };
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Raw RGBA layer. */
export function rawLayer(data: Uint8Array, width: number, height: number, left = 0, top = 0): Layer {
  return { input: asBuffer(data), raw: { width, height, channels: 4 }, left, top, width, height };
}

/** SVG layer; `width`/`height` must be the SVG's own size. */
export function svgLayer(o: { svg: Buffer; left: number; top: number; width: number; height: number }): Layer {
  return { input: o.svg, left: o.left, top: o.top, width: o.width, height: o.height };
}

export function layerRect(l: Layer): Rect {
  return { x0: l.left, y0: l.top, x1: l.left + l.width, y1: l.top + l.height };
}

/**
 * Large areas are split into this many horizontal strips, processed in parallel. sharp runs each call on
 * its own libuv thread, and its default libvips concurrency is 1 on glibc Linux, so splitting is what puts
 * more cores to work. Capped at 4, libuv's default thread-pool size. Mutable for tests and benchmarks.
 */
export const STRIPS_CFG = { n: Math.max(1, Math.min(4, availableParallelism())) };
/** Areas smaller than this stay in one call: the per-call cost would eat the parallel gain. */
export const STRIP_MIN_AREA = 200_000;

/** Row ranges [y0, y1) that split `r` into strips, or the whole of it when it is too small to split. */
export function stripsOf(r: Rect): Array<[number, number]> {
  const n = area(r) < STRIP_MIN_AREA ? 1 : Math.max(1, Math.min(STRIPS_CFG.n, Math.floor((r.y1 - r.y0) / 32)));
  const rows: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    rows.push([r.y0 + Math.round((i * (r.y1 - r.y0)) / n), r.y0 + Math.round(((i + 1) * (r.y1 - r.y0)) / n)]);
  }
  return rows;
}

/**
 * Composite `layers` (in order) over packed RGB and return packed RGB of the same size (a new buffer
 * unless `inPlace`). libvips' composite costs time for every pixel of its base, touched or not, so only
 * the areas the layers cover are composited, in as few calls as pays off and in parallel.
 */
export async function compositeRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  layers: Layer[],
  /** Write into `rgb` itself (only for buffers the renderer owns). */
  inPlace = false,
): Promise<Uint8Array> {
  // Copy rather than alias: the caller's frame may be reused by the decoder.
  const out = inPlace ? asBuffer(rgb) : Buffer.from(rgb);
  if (layers.length === 0) return out;
  const inside = layers.every(
    (l) => l.left >= 0 && l.top >= 0 && l.left + l.width <= width && l.top + l.height <= height,
  );
  if (!inside) {
    // Not produced by this renderer; let sharp clip it in one whole-frame pass.
    const whole = { x0: 0, y0: 0, x1: width, y1: height };
    pasteRows(out, width, await compositeArea(rgb, width, height, whole, layers), whole);
    return out;
  }
  const units: Array<{ rect: Rect; layers: Layer[] }> = [];
  for (const g of cluster(layers, layerRect)) {
    const strips = stripsOf(g.rect);
    if (strips.length === 1) {
      units.push({ rect: g.rect, layers: g.items });
      continue;
    }
    // Only raw layers can be cut by rows.
    const raws = await Promise.all(g.items.map(rasterise));
    for (const [y0, y1] of strips) {
      const pieces = raws.map((l) => sliceRows(l, y0, y1)).filter((l): l is Layer => l !== null);
      units.push({ rect: { ...g.rect, y0, y1 }, layers: pieces });
    }
  }
  // Units are disjoint, so each reads and writes only its own pixels.
  await Promise.all(
    units.map(async (u) => pasteRows(out, width, await compositeArea(rgb, width, height, u.rect, u.layers), u.rect)),
  );
  return out;
}

/** A rectangle of one opaque colour. */
export interface SolidRect {
  x: number;
  y: number;
  w: number;
  h: number;
  rgb: [number, number, number];
}

/**
 * Composite `layers`, then write `solid` rectangles (box outlines) except where `keepClear` rectangles
 * (labels, legend) are, so outlines end up above the map and below the text, in a single composite pass.
 */
export async function drawLayers(
  rgb: Uint8Array,
  width: number,
  height: number,
  layers: Layer[],
  solid: readonly SolidRect[],
  keepClear: readonly Rect[],
  inPlace = false,
): Promise<Uint8Array> {
  const out = asBuffer(await compositeRgb(rgb, width, height, layers, inPlace));
  for (const s of solid) {
    const rect = { x0: s.x, y0: s.y, x1: s.x + s.w, y1: s.y + s.h };
    for (const r of subtract(rect, keepClear)) fillRect(out, width, height, r, s.rgb);
  }
  return out;
}

/** Composite `layers` over one rectangle of the frame; returns that rectangle as packed RGB. */
async function compositeArea(
  rgb: Uint8Array,
  width: number,
  height: number,
  r: Rect,
  layers: Layer[],
): Promise<Buffer> {
  let img = sharp(asBuffer(rgb), { raw: { width, height, channels: 3 } });
  const whole = r.x0 === 0 && r.y0 === 0 && r.x1 === width && r.y1 === height;
  if (!whole) img = img.extract({ left: r.x0, top: r.y0, width: r.x1 - r.x0, height: r.y1 - r.y0 });
  return img
    .composite(
      layers.map((l) => {
        const o: OverlayOptions = { input: l.input, left: l.left - r.x0, top: l.top - r.y0 };
        if (l.raw) o.raw = l.raw;
        return o;
      }),
    )
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** SVG → raw RGBA, so the layer can be cut into strips by rows. */
async function rasterise(l: Layer): Promise<Layer> {
  if (l.raw) return l;
  const { data, info } = await sharp(l.input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return rawLayer(data, info.width, info.height, l.left, l.top);
}

/** The rows [y0, y1) of a raw layer, without copying (rows are contiguous), or null if it misses them. */
function sliceRows(l: Layer, y0: number, y1: number): Layer | null {
  const top = Math.max(l.top, y0);
  const bottom = Math.min(l.top + l.height, y1);
  if (bottom <= top) return null;
  if (top === l.top && bottom === l.top + l.height) return l;
  if (!l.raw) throw new Error('sliceRows: only raw layers can be cut');
  const rowBytes = l.width * 4;
  const rows = l.input.subarray((top - l.top) * rowBytes, (bottom - l.top) * rowBytes);
  return rawLayer(rows, l.width, bottom - top, l.left, top);
}

/** Copy a packed-RGB rectangle into the image: one native copy per row, no per-pixel JavaScript. */
function pasteRows(out: Buffer, width: number, part: Buffer, r: Rect): void {
  const rowBytes = (r.x1 - r.x0) * 3;
  for (let y = r.y0; y < r.y1; y++) {
    const src = (y - r.y0) * rowBytes;
    part.copy(out, (y * width + r.x0) * 3, src, src + rowBytes);
  }
}

/** Fill a rectangle (clipped to the image) with one colour: one native pattern fill per row. */
function fillRect(out: Buffer, width: number, height: number, r: Rect, rgb: [number, number, number]): void {
  const x0 = Math.max(0, r.x0);
  const x1 = Math.min(width, r.x1);
  if (x1 <= x0) return;
  const pattern = Buffer.from(rgb);
  for (let y = Math.max(0, r.y0); y < Math.min(height, r.y1); y++) {
    out.fill(pattern, (y * width + x0) * 3, (y * width + x1) * 3);
  }
}

/** Paste opaque packed-RGB tiles into a black image of `width`x`height` (grid assembly: no blending needed). */
export function pasteTiles(
  width: number,
  height: number,
  tiles: Array<{ data: Buffer | Uint8Array; left: number; top: number; width: number; height: number }>,
): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (const t of tiles) {
    pasteRows(out, width, asBuffer(t.data), { x0: t.left, y0: t.top, x1: t.left + t.width, y1: t.top + t.height });
  }
  return out;
}
