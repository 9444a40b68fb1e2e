// Thin wrappers over sharp for the full-resolution steps: every pass over frame-sized pixels happens
// in libvips, never in a JavaScript loop.

import sharp, { type OverlayOptions } from 'sharp';

/** View a typed array as a Buffer without copying (sharp's typings want Buffers). */
export function asBuffer(a: Uint8Array): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Upsample straight RGBA to `width`x`height`, stretching to fill (maps always cover the whole frame).
 * sharp premultiplies alpha around the resize, so transparent neighbours do not darken the edges.
 */
export async function resizeRgba(
  rgba: Uint8Array,
  srcW: number,
  srcH: number,
  width: number,
  height: number,
): Promise<Buffer> {
  if (srcW === width && srcH === height) return asBuffer(rgba);
  return sharp(asBuffer(rgba), { raw: { width: srcW, height: srcH, channels: 4 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
}

export interface Patch {
  data: Buffer;
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Like resizeRgba, but only the part that can be non-transparent: upsampling and compositing cost
 * grows with area, and a CAM map is usually cold over much of the frame. libvips evaluates lazily,
 * so extracting after the resize computes just that region, with the same geometry as the full resize.
 * Null when the map is transparent everywhere.
 */
export async function resizeRgbaActive(
  rgba: Uint8Array,
  srcW: number,
  srcH: number,
  width: number,
  height: number,
): Promise<Patch | null> {
  const box = alphaBounds(rgba, srcW, srcH);
  if (!box) return null;
  // Two map pixels of margin cover the bilinear support plus rounding in libvips' pixel-centre mapping.
  const sx = width / srcW;
  const sy = height / srcH;
  const left = Math.max(0, Math.floor((box.x0 - 2) * sx));
  const top = Math.max(0, Math.floor((box.y0 - 2) * sy));
  const right = Math.min(width, Math.ceil((box.x1 + 3) * sx));
  const bottom = Math.min(height, Math.ceil((box.y1 + 3) * sy));
  const full = left === 0 && top === 0 && right === width && bottom === height;
  if (full || (srcW === width && srcH === height)) {
    return { data: await resizeRgba(rgba, srcW, srcH, width, height), left: 0, top: 0, width, height };
  }
  const data = await sharp(asBuffer(rgba), { raw: { width: srcW, height: srcH, channels: 4 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .extract({ left, top, width: right - left, height: bottom - top })
    .raw()
    .toBuffer();
  return { data, left, top, width: right - left, height: bottom - top };
}

/** Inclusive bounds of the pixels with non-zero alpha (a low-resolution scan), or null if none. */
function alphaBounds(rgba: Uint8Array, w: number, h: number) {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (rgba[(y * w + x) * 4 + 3]! !== 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/** Composite `layers` over packed RGB in one libvips pass and return packed RGB of the same size. */
export async function compositeRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  layers: OverlayOptions[],
): Promise<Uint8Array> {
  // Copy rather than alias: the caller's frame may be reused by the decoder.
  if (layers.length === 0) return Uint8Array.from(rgb);
  return sharp(asBuffer(rgb), { raw: { width, height, channels: 3 } })
    .composite(layers)
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** Raw RGBA layer for sharp's composite. */
export function rawLayer(data: Uint8Array, width: number, height: number, left?: number, top?: number): OverlayOptions {
  const layer: OverlayOptions = { input: asBuffer(data), raw: { width, height, channels: 4 } };
  if (left !== undefined) layer.left = left;
  if (top !== undefined) layer.top = top;
  return layer;
}
