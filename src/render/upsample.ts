// Upsampling a colourised map (straight RGBA at map resolution) to the image it overlays, done by libvips.
// Only the parts that can be visible are computed: upsampling and compositing cost grows with area, and
// a CAM map is usually cold over much of the frame.

import sharp from 'sharp';
import { asBuffer, stripsOf } from './raster.js';
import { cluster, union, type Rect } from './rects.js';

/** A piece of the upsampled overlay, placed at `left`,`top` of the full-size image. */
export interface Patch {
  data: Buffer;
  left: number;
  top: number;
  width: number;
  height: number;
}

interface Region {
  left: number;
  top: number;
  right: number;
  bottom: number;
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
  return upsampleRegion(rgba, srcW, srcH, width, height, { left: 0, top: 0, right: width, bottom: height });
}

/**
 * Large upscales (a 128x128 map onto 720p is 10x by 5.6x) go bilinear to half the target size, then
 * exact 2x pixel replication. libvips' bilinear upsampling is the costliest step of a frame, and once
 * the half-size image is itself a 2x+ upsample of the map, 2x2 replication differs from full-size
 * bilinear by a few levels (under 10 of 255 at the steepest gradient of a typical map, well under 1 on
 * average), invisible in a translucent overlay; it saves about 40% of the upsampling time.
 */
export function usesTwoStages(srcW: number, srcH: number, width: number, height: number): boolean {
  return width % 2 === 0 && height % 2 === 0 && width >= 4 * srcW && height >= 4 * srcH;
}

/** One rectangle of the upsampled image; libvips evaluates lazily, so only that area is computed. */
async function upsampleRegion(
  rgba: Uint8Array,
  srcW: number,
  srcH: number,
  width: number,
  height: number,
  r: Region,
): Promise<Buffer> {
  const src = () => sharp(asBuffer(rgba), { raw: { width: srcW, height: srcH, channels: 4 } });
  if (!usesTwoStages(srcW, srcH, width, height)) {
    return src()
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      .extract({ left: r.left, top: r.top, width: r.right - r.left, height: r.bottom - r.top })
      .raw()
      .toBuffer();
  }
  // The half-size rectangle whose 2x replication covers r; r then starts 0 or 1 pixel into it.
  const hl = Math.floor(r.left / 2);
  const ht = Math.floor(r.top / 2);
  const hw = Math.ceil(r.right / 2) - hl;
  const hh = Math.ceil(r.bottom / 2) - ht;
  const half = await src()
    .resize(width / 2, height / 2, { fit: 'fill', kernel: 'linear' })
    .extract({ left: hl, top: ht, width: hw, height: hh })
    .raw()
    .toBuffer();
  return sharp(half, { raw: { width: hw, height: hh, channels: 4 } })
    .resize(hw * 2, hh * 2, { kernel: 'nearest' })
    .extract({ left: r.left - 2 * hl, top: r.top - 2 * ht, width: r.right - r.left, height: r.bottom - r.top })
    .raw()
    .toBuffer();
}

/**
 * The upsampled overlay as patches covering every pixel that is not fully transparent (the warm areas of
 * the map, joined where one call is cheaper than two, big ones cut into strips; an empty list when the
 * map is cold everywhere). Each patch is cut from the same full-size upsampling, so pixels are identical
 * to resizeRgba's. Patches are computed in parallel.
 */
export async function upsamplePatches(
  rgba: Uint8Array,
  srcW: number,
  srcH: number,
  width: number,
  height: number,
): Promise<Patch[]> {
  const warm = warmRegions(rgba, srcW, srcH);
  if (warm.length === 0) return [];
  if (srcW === width && srcH === height) return [{ data: asBuffer(rgba), left: 0, top: 0, width, height }];
  const sx = width / srcW;
  const sy = height / srcH;
  const rects: Rect[] = warm.map((r) => ({
    // The regions carry two map pixels of margin: bilinear support plus rounding in libvips' centre mapping.
    x0: Math.max(0, Math.floor(r.x0 * sx)),
    y0: Math.max(0, Math.floor(r.y0 * sy)),
    x1: Math.min(width, Math.ceil(r.x1 * sx)),
    y1: Math.min(height, Math.ceil(r.y1 * sy)),
  }));
  // Fewer, larger calls where that is cheaper; big areas cut into strips that upsample in parallel.
  const pieces: Region[] = cluster(rects, (r) => r).flatMap((g) =>
    stripsOf(g.rect).map(([y0, y1]) => ({ left: g.rect.x0, top: y0, right: g.rect.x1, bottom: y1 })),
  );
  return Promise.all(
    pieces.map(async (r) => ({
      data: await upsampleRegion(rgba, srcW, srcH, width, height, r),
      left: r.left,
      top: r.top,
      width: r.right - r.left,
      height: r.bottom - r.top,
    })),
  );
}

const MARGIN = 2;
/** Past this many separate warm areas (a speckled map), one bounding box is cheaper than planning. */
const MAX_AREAS = 32;

/**
 * Bounding boxes of the connected areas with non-zero alpha (8-connected), in map pixels, each grown by
 * MARGIN (so they may reach past the map's edges); boxes that then overlap are merged, so the result is
 * disjoint. Runs at map resolution.
 */
export function warmRegions(rgba: Uint8Array, w: number, h: number): Rect[] {
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  const rects: Rect[] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || rgba[start * 4 + 3] === 0) continue;
    const r = { x0: w, y0: h, x1: -1, y1: -1 };
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % w;
      const y = (p - x) / w;
      if (x < r.x0) r.x0 = x;
      if (x > r.x1) r.x1 = x;
      if (y < r.y0) r.y0 = y;
      if (y > r.y1) r.y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= w) continue;
          const q = ny * w + nx;
          if (!seen[q] && rgba[q * 4 + 3] !== 0) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    rects.push({ x0: r.x0 - MARGIN, y0: r.y0 - MARGIN, x1: r.x1 + 1 + MARGIN, y1: r.y1 + 1 + MARGIN });
  }
  if (rects.length > MAX_AREAS) return [rects.reduce(union)];
  return cluster(rects, (r) => r, 0).map((g) => g.rect);
}
