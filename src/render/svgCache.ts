// SVG → raw RGBA through librsvg, remembered. Label plates and the legend repeat from frame to frame (the same
// text, colour and size), and librsvg costs ~1-3 ms per call, more than compositing them; a small LRU keyed by
// the SVG text itself gives pixels identical to rendering afresh.

import sharp from 'sharp';

/** Straight (not premultiplied) RGBA. */
export interface RgbaImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Bounds: a plate is ~10-50 KB, so a few hundred distinct labels (class × score) fit in a few MB. */
export const SVG_CACHE_LIMITS = { entries: 512, bytes: 16 << 20 };

const cache = new Map<string, Promise<RgbaImage>>();
const sizes = new Map<string, number>();
let bytes = 0;

/** Rasterise `svg` (its own width/height) to RGBA, or return the remembered result of the same SVG. */
export function rasteriseSvg(svg: string): Promise<RgbaImage> {
  const hit = cache.get(svg);
  if (hit) {
    // Re-insert: Map keeps insertion order, so the first key is always the least recently used.
    cache.delete(svg);
    cache.set(svg, hit);
    return hit;
  }
  const p = sharp(Buffer.from(svg))
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => ({ data, width: info.width, height: info.height }));
  cache.set(svg, p);
  p.then(
    (img) => {
      if (cache.get(svg) !== p) return; // evicted (or cleared) while rendering
      sizes.set(svg, img.data.length);
      bytes += img.data.length;
      evict();
    },
    // A failed render must not stay cached as a rejected promise.
    () => {
      if (cache.get(svg) === p) cache.delete(svg);
    },
  );
  evict();
  return p;
}

function evict(): void {
  while (cache.size > SVG_CACHE_LIMITS.entries || bytes > SVG_CACHE_LIMITS.bytes) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
    bytes -= sizes.get(oldest) ?? 0;
    sizes.delete(oldest);
  }
}

/** Entries and bytes held now (tests check the bounds). */
export function svgCacheStats(): { entries: number; bytes: number } {
  return { entries: cache.size, bytes };
}

/** Forget everything (tests). */
export function clearSvgCache(): void {
  cache.clear();
  sizes.clear();
  bytes = 0;
}
