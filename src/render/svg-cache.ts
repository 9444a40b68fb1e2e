// SVG → raw RGBA through librsvg, remembered. Label plates and the legend repeat from frame to frame (the same
// text, colour and size), and a librsvg call costs ~2 ms, more than compositing them. A small LRU keyed by the
// SVG itself gives pixels identical to rendering afresh; the misses of one frame go to librsvg as one document
// (stacked), since each call has a fixed cost (4 plates: ~10 ms in 4 calls, ~3.5 ms in one, on this machine).

import sharp from 'sharp';

/** Straight (not premultiplied) RGBA. */
export interface RgbaImage {
  data: Buffer;
  width: number;
  height: number;
}

/** An SVG drawing of `width`x`height` (the inside of an <svg> element, drawn from 0,0). */
export interface SvgDrawing {
  body: string;
  width: number;
  height: number;
}

/** Bounds: a plate is ~10-50 KB, so a few hundred distinct labels (class × score) fit in a few MB. */
export const SVG_CACHE_LIMITS = { entries: 512, bytes: 16 << 20 };

const cache = new Map<string, Promise<RgbaImage>>();
const sizes = new Map<string, number>();
let bytes = 0;
/** Misses asked for in the current tick, rendered together. */
let pending: Array<{ d: SvgDrawing; resolve: (img: RgbaImage) => void; reject: (err: unknown) => void }> = [];

export function svgDocument(d: SvgDrawing): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${d.width}" height="${d.height}">${d.body}</svg>`;
}

/** Rasterise `d` to RGBA, or return the remembered result of the same drawing. */
export function rasteriseSvg(d: SvgDrawing): Promise<RgbaImage> {
  const key = `${d.width}x${d.height}|${d.body}`;
  const hit = cache.get(key);
  if (hit) {
    // Re-insert: Map keeps insertion order, so the first key is always the least recently used.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const p = new Promise<RgbaImage>((resolve, reject) => {
    if (pending.length === 0) queueMicrotask(flush);
    pending.push({ d, resolve, reject });
  });
  cache.set(key, p);
  p.then(
    (img) => {
      if (cache.get(key) !== p) return; // evicted (or cleared) while rendering
      sizes.set(key, img.data.length);
      bytes += img.data.length;
      evict();
    },
    // A failed render must not stay cached as a rejected promise.
    () => {
      if (cache.get(key) === p) cache.delete(key);
    },
  );
  evict();
  return p;
}

/** Render the pending drawings as one document, one below the other, and cut it up. */
function flush(): void {
  const batch = pending;
  pending = [];
  const width = Math.max(...batch.map((b) => b.d.width));
  let y = 0;
  const body = batch
    .map(({ d }) => {
      // A nested <svg> clips each drawing to its own box, as its own document would.
      const s = `<svg x="0" y="${y}" width="${d.width}" height="${d.height}">${d.body}</svg>`;
      y += d.height;
      return s;
    })
    .join('');
  sharp(Buffer.from(svgDocument({ body, width, height: y })))
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => {
      let top = 0;
      for (const { d, resolve } of batch) {
        resolve(cut(data, info.width, d.width, d.height, top));
        top += d.height;
      }
    })
    .catch((err: unknown) => {
      for (const b of batch) b.reject(err);
    });
}

/** The `w`x`h` rectangle at 0,`top` of an RGBA image `stride` pixels wide, as its own image. */
function cut(data: Buffer, stride: number, w: number, h: number, top: number): RgbaImage {
  const out = Buffer.allocUnsafe(w * h * 4);
  for (let y = 0; y < h; y++) data.copy(out, y * w * 4, ((top + y) * stride) * 4, ((top + y) * stride + w) * 4);
  return { data: out, width: w, height: h };
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
