// Thin wrappers over sharp for the full-resolution steps: every pass over frame-sized pixels happens
// in libvips, never in a JavaScript loop.

import sharp, { type OverlayOptions } from 'sharp';

/** View a typed array as a Buffer without copying (sharp's typings want Buffers). */
export function asBuffer(a: Uint8Array): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A composite input whose placement and size are known up front, so untouched areas can be skipped. */
export interface Layer {
  input: Buffer;
  /** Set for raw pixel input; absent for encoded input (SVG). */
  raw?: { width: number; height: number; channels: 3 | 4 };
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

// Regions closer than this are merged: one more libvips call costs more than compositing a small gap.
const MERGE_GAP = 32;
// Above this share of the frame, one whole-frame pass beats several regional ones plus copying.
const WHOLE_FRAME_SHARE = 0.6;

/**
 * Composite `layers` (in order) over packed RGB and return packed RGB of the same size.
 * libvips' composite costs time for every pixel of its base, touched or not, so only the areas the layers
 * cover are composited (independent areas in parallel) and copied back into a copy of the frame.
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
  const groups = groupLayers(layers);
  const inside = groups.every((g) => g.rect.x0 >= 0 && g.rect.y0 >= 0 && g.rect.x1 <= width && g.rect.y1 <= height);
  const area = groups.reduce((a, g) => a + (g.rect.x1 - g.rect.x0) * (g.rect.y1 - g.rect.y0), 0);
  if (!inside || area > WHOLE_FRAME_SHARE * width * height) {
    return compositeArea(rgb, width, height, { x0: 0, y0: 0, x1: width, y1: height }, layers);
  }
  const out = inPlace ? asBuffer(rgb) : Buffer.from(rgb);
  const parts = await Promise.all(groups.map((g) => compositeArea(rgb, width, height, g.rect, g.layers)));
  groups.forEach((g, i) => pasteRows(out, width, parts[i]!, g.rect));
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

/** Copy a packed-RGB rectangle into the image: one native copy per row, no per-pixel JavaScript. */
function pasteRows(out: Buffer, width: number, part: Buffer, r: Rect): void {
  const rowBytes = (r.x1 - r.x0) * 3;
  for (let y = r.y0; y < r.y1; y++) {
    const src = (y - r.y0) * rowBytes;
    part.copy(out, (y * width + r.x0) * 3, src, src + rowBytes);
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
