// Compositing layers over a frame. Every pass over frame-sized pixels happens in libvips, never in a
// JavaScript loop; JavaScript only plans which rectangles to process and copies finished rows back.

import { availableParallelism } from 'node:os';
import sharp, { type OverlayOptions } from 'sharp';

/** View a typed array as a Buffer without copying (sharp's typings want Buffers). */
export function asBuffer(a: Uint8Array): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A composite input whose placement and size are known up front, so untouched areas can be skipped. */
export interface Layer {
  input: Buffer;
  /** Set for raw RGBA input; absent for encoded input (SVG), which is rasterised before compositing. */
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

interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Horizontal strips the frame is processed in, in parallel. sharp runs each call on its own libuv thread,
 * and its default libvips concurrency is 1 on glibc Linux, so splitting is what puts more cores to work.
 * Capped at 4, libuv's default thread-pool size. Mutable for tests and benchmarks.
 */
export const STRIPS_CFG = { n: Math.max(1, Math.min(4, availableParallelism())) };
// Strips shorter than this are not worth one more libvips call.
const MIN_STRIP_ROWS = 64;

/** Row ranges [y0, y1) of the strips for an image `height` rows tall. */
export function stripRows(height: number): Array<[number, number]> {
  const n = Math.max(1, Math.min(STRIPS_CFG.n, Math.floor(height / MIN_STRIP_ROWS)));
  const rows: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) rows.push([Math.round((i * height) / n), Math.round(((i + 1) * height) / n)]);
  return rows;
}

// Areas closer than this are composited together: one more libvips call costs more than a small gap.
const MERGE_GAP = 32;

/**
 * Composite `layers` (in order) over packed RGB and return packed RGB of the same size.
 * libvips' composite costs time for every pixel of its base, touched or not, so only the areas the layers
 * cover are composited, strip by strip and area by area in parallel, then copied into a copy of the frame.
 */
export async function compositeRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  layers: Layer[],
  /** Write into `rgb` itself (only for buffers the renderer owns); by default the input is left untouched. */
  inPlace = false,
): Promise<Uint8Array> {
  // Copy rather than alias: the caller's frame may be reused by the decoder.
  if (layers.length === 0) return inPlace ? rgb : Uint8Array.from(rgb);
  const inside = layers.every((l) => l.left >= 0 && l.top >= 0 && l.left + l.width <= width && l.top + l.height <= height);
  if (!inside) {
    // Not produced by this renderer; let sharp clip it in one whole-frame pass.
    return compositeArea(rgb, width, height, { x0: 0, y0: 0, x1: width, y1: height }, layers);
  }
  const strips = stripRows(height);
  // Only layers cut into strips need raw pixels; with one strip SVG goes straight to the composite.
  const raws = strips.length > 1 ? await Promise.all(layers.map(rasterise)) : layers;
  const units: Array<{ rect: Rect; layers: Layer[] }> = [];
  for (const [y0, y1] of strips) {
    const pieces = raws.map((l) => sliceRows(l, y0, y1)).filter((l): l is Layer => l !== null);
    units.push(...groupLayers(pieces));
  }
  const out = inPlace ? asBuffer(rgb) : Buffer.from(rgb);
  // Units are disjoint, so each reads and writes only its own pixels.
  await Promise.all(
    units.map(async (u) => pasteRows(out, width, await compositeArea(rgb, width, height, u.rect, u.layers), u.rect)),
  );
  return out;
}

/** Composite `layers` over one rectangle of the frame; returns that rectangle as packed RGB. */
async function compositeArea(rgb: Uint8Array, width: number, height: number, r: Rect, layers: Layer[]): Promise<Buffer> {
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
  const data = l.input.subarray((top - l.top) * rowBytes, (bottom - l.top) * rowBytes);
  return rawLayer(data, l.width, bottom - top, l.left, top);
}

/** Copy a packed-RGB rectangle into the image: one native copy per row, no per-pixel JavaScript. */
function pasteRows(out: Buffer, width: number, part: Buffer, r: Rect): void {
  const rowBytes = (r.x1 - r.x0) * 3;
  for (let y = r.y0; y < r.y1; y++) {
    const src = (y - r.y0) * rowBytes;
    part.copy(out, (y * width + r.x0) * 3, src, src + rowBytes);
  }
}

/** Write opaque one-colour rectangles (clipped to the image): one native pattern fill per row. */
export function fillRects(
  rgb: Uint8Array,
  width: number,
  height: number,
  rects: ReadonlyArray<{ x: number; y: number; w: number; h: number; rgb: [number, number, number] }>,
): void {
  const out = asBuffer(rgb);
  for (const r of rects) {
    const x0 = Math.max(0, r.x);
    const x1 = Math.min(width, r.x + r.w);
    if (x1 <= x0) continue;
    const pattern = Buffer.from(r.rgb);
    for (let y = Math.max(0, r.y); y < Math.min(height, r.y + r.h); y++) {
      out.fill(pattern, (y * width + x0) * 3, (y * width + x1) * 3);
    }
  }
}

/**
 * The layer order annotations need: `under` (saliency), then opaque `solid` rectangles (box outlines),
 * then `over` (labels, legend), so outlines sit above the map and text above the outlines.
 */
export async function drawLayers(
  rgb: Uint8Array,
  width: number,
  height: number,
  under: Layer[],
  solid: ReadonlyArray<{ x: number; y: number; w: number; h: number; rgb: [number, number, number] }>,
  over: Layer[],
  inPlace = false,
): Promise<Uint8Array> {
  // The first pass returns a fresh buffer (unless in place); the later passes work on it.
  const base = await compositeRgb(rgb, width, height, under, inPlace);
  fillRects(base, width, height, solid);
  return compositeRgb(base, width, height, over, true);
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

/**
 * Layers grouped into disjoint rectangles, each group keeping the original layer order, so compositing the
 * groups separately gives the same pixels as compositing everything at once.
 */
function groupLayers(layers: Layer[]): Array<{ rect: Rect; layers: Layer[] }> {
  let groups = layers.map((l, i) => ({
    rect: { x0: l.left, y0: l.top, x1: l.left + l.width, y1: l.top + l.height },
    idx: [i],
  }));
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let a = 0; a < groups.length; a++) {
      for (let b = a + 1; b < groups.length; b++) {
        const A = groups[a]!.rect;
        const B = groups[b]!.rect;
        const near =
          A.x0 < B.x1 + MERGE_GAP && B.x0 < A.x1 + MERGE_GAP && A.y0 < B.y1 + MERGE_GAP && B.y0 < A.y1 + MERGE_GAP;
        if (!near) continue;
        groups[a] = {
          rect: { x0: Math.min(A.x0, B.x0), y0: Math.min(A.y0, B.y0), x1: Math.max(A.x1, B.x1), y1: Math.max(A.y1, B.y1) },
          idx: [...groups[a]!.idx, ...groups[b]!.idx],
        };
        groups = groups.filter((_, k) => k !== b);
        merged = true;
        break outer;
      }
    }
  }
  return groups.map((g) => ({ rect: g.rect, layers: g.idx.sort((x, y) => x - y).map((i) => layers[i]!) }));
}
