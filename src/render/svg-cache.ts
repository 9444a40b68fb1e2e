// SVG → raw RGBA through librsvg, remembered. Label plates and the legend repeat from frame to frame (the same
// text, colour and size), and a librsvg call costs ~2 ms, more than compositing them. A bounded LRU (lru-cache,
// by entries and bytes) keyed by the SVG itself gives pixels identical to rendering afresh; the misses of one frame go to librsvg as one document
// (stacked), since each call has a fixed cost (4 plates: ~10 ms in 4 calls, ~3.5 ms in one, on this machine).

import { LRUCache } from 'lru-cache';
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
export const SVG_CACHE_DEFAULT_LIMITS = { entries: 512, bytes: 16 << 20 } as const;

function newCache(limits: { entries: number; bytes: number }): LRUCache<string, RgbaImage> {
  return new LRUCache<string, RgbaImage>({ max: limits.entries, maxSize: limits.bytes, sizeCalculation: (img) => Math.max(1, img.data.length) });
}

let done = newCache(SVG_CACHE_DEFAULT_LIMITS);
/** Drawings being rasterised: a second request for one waits for the same result. */
const inFlight = new Map<string, Promise<RgbaImage>>();
/** Misses asked for in the current tick, rendered together. */
let pending: Array<{ d: SvgDrawing; resolve: (img: RgbaImage) => void; reject: (err: unknown) => void }> = [];

export function svgDocument(d: SvgDrawing): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${d.width}" height="${d.height}">${d.body}</svg>`;
}

/** Rasterise `d` to RGBA, or return the remembered result of the same drawing. */
export function rasteriseSvg(d: SvgDrawing): Promise<RgbaImage> {
  const key = `${d.width}x${d.height}|${d.body}`;
  const hit = done.get(key);
  if (hit) return Promise.resolve(hit);
  const flying = inFlight.get(key);
  if (flying) return flying;
  const p = new Promise<RgbaImage>((resolve, reject) => {
    if (pending.length === 0) queueMicrotask(flush);
    pending.push({ d, resolve, reject });
  });
  inFlight.set(key, p);
  // Only a finished render is remembered: a failed one is asked for afresh next time.
  const settle = (img?: RgbaImage) => {
    if (inFlight.get(key) !== p) return; // cleared while rendering
    inFlight.delete(key);
    if (img) done.set(key, img);
  };
  p.then(settle, () => settle());
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

/** Entries and bytes held now (tests check the bounds). */
export function svgCacheStats(): { entries: number; bytes: number } {
  return { entries: done.size, bytes: done.calculatedSize };
}

/** Forget everything, and bound the cache anew (tests). */
export function clearSvgCache(limits: { entries: number; bytes: number } = SVG_CACHE_DEFAULT_LIMITS): void {
  done = newCache(limits);
  inFlight.clear();
}
