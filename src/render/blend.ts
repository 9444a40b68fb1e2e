// The blend view's overlay in one pass: bilinear upsampling of the colourised map and "over" compositing onto
// the frame, fused, in place. This is the renderer's one per-pixel JavaScript loop, kept on purpose: libvips
// needs two frame-sized passes for it (resize to an RGBA buffer, then composite that buffer; float, with
// premultiply/unpremultiply around each), ~30-45 ms for a warm 720p map on this 2-core machine, while this
// pass, integer arithmetic at half resolution then 2x2 writes, takes ~6 ms (whole frame: 37 -> 8 ms,
// scripts/bench-render.ts). It reproduces the libvips path's geometry and 8-bit truncations (see below), so the
// pixels equal it but for rare ±1-3 levels (mean 0.008 of a level on the sample drive).

import { usesTwoStages } from './upsample.js';

/**
 * Composite straight RGBA `rgba` (`srcW`x`srcH`, a colourised map covering the whole frame) over packed RGB
 * `out` (`width`x`height`), upsampled bilinearly, writing into `out`. Fully transparent areas cost almost
 * nothing: rows and cells whose alpha rounds to zero are skipped.
 */
export function blendMapOver(
  out: Uint8Array,
  width: number,
  height: number,
  rgba: Uint8Array,
  srcW: number,
  srcH: number,
): void {
  if (rgba.length < srcW * srcH * 4) throw new Error(`blendMapOver: map has ${rgba.length} bytes, expected ${srcW}x${srcH}x4`);
  if (out.length < width * height * 3) throw new Error(`blendMapOver: image has ${out.length} bytes, expected ${width}x${height}x3`);
  // A map at frame size is composited as it is, without resampling (as the libvips path did).
  if (srcW === width && srcH === height) return blendRgbaOver(out, width, height, rgba, srcW, srcH, 0, 0);
  // Premultiplied colour, truncated to 8 bits, and alpha (0..255): what libvips interpolates, so transparent
  // neighbours do not darken edges and the pixels match the libvips path this replaced.
  const pre = new Float32Array(srcW * srcH * 4);
  for (let p = 0; p < srcW * srcH * 4; p += 4) {
    const a = rgba[p + 3]!;
    pre[p] = Math.floor((rgba[p]! * a) / 255);
    pre[p + 1] = Math.floor((rgba[p + 1]! * a) / 255);
    pre[p + 2] = Math.floor((rgba[p + 2]! * a) / 255);
    pre[p + 3] = a;
  }
  // Upsampling grid: half size, each cell replicated 2x2, where the libvips path did the same (see upsample.ts).
  const rep = usesTwoStages(srcW, srcH, width, height) ? 2 : 1;
  const gw = width / rep;
  const gh = height / rep;
  // libvips' bilinear upsampling reads output pixel x at x·(srcW/gw) − 0.5 of the source (measured against
  // sharp), not at the centre-aligned (x + 0.5)·(srcW/gw) − 0.5; the same here, clamped at the edges.
  const x0s = new Int32Array(gw);
  const x1s = new Int32Array(gw);
  const wxs = new Float32Array(gw);
  for (let gx = 0; gx < gw; gx++) {
    const f = clamp((gx * srcW) / gw - 0.5, 0, srcW - 1);
    const x0 = Math.floor(f);
    x0s[gx] = x0 * 4;
    x1s[gx] = Math.min(srcW - 1, x0 + 1) * 4;
    wxs[gx] = f - x0;
  }
  const lut = unpremultiplyLut(rep === 2);
  const col = new Float32Array(srcW * 4); // the map interpolated vertically to one grid row
  const cell = new Int32Array(gw * 4); // that row interpolated horizontally, as colour·alpha and 255 − alpha
  for (let gy = 0; gy < gh; gy++) {
    const f = clamp((gy * srcH) / gh - 0.5, 0, srcH - 1);
    const y0 = Math.floor(f);
    const wy = f - y0;
    const r0 = y0 * srcW * 4;
    const r1 = Math.min(srcH - 1, y0 + 1) * srcW * 4;
    let any = false;
    for (let i = 0; i < srcW * 4; i++) {
      const v = pre[r0 + i]! + (pre[r1 + i]! - pre[r0 + i]!) * wy;
      col[i] = v;
      if ((i & 3) === 3 && v >= 0.5) any = true;
    }
    if (!any) continue;
    for (let gx = 0; gx < gw; gx++) {
      const a = x0s[gx]!;
      const b = x1s[gx]!;
      const w = wxs[gx]!;
      const o = gx * 4;
      // Rounded to 8 bits, then straight colour·alpha as libvips' unpremultiply and casts left it (table).
      const a8 = (col[a + 3]! + (col[b + 3]! - col[a + 3]!) * w + 0.5) | 0;
      if (a8 === 0) {
        cell[o + 3] = 255;
        continue;
      }
      const row = a8 << 8;
      cell[o] = lut[row | ((col[a]! + (col[b]! - col[a]!) * w + 0.5) | 0)]!;
      cell[o + 1] = lut[row | ((col[a + 1]! + (col[b + 1]! - col[a + 1]!) * w + 0.5) | 0)]!;
      cell[o + 2] = lut[row | ((col[a + 2]! + (col[b + 2]! - col[a + 2]!) * w + 0.5) | 0)]!;
      cell[o + 3] = 255 - a8;
    }
    // Each cell covers rep x rep pixels; its values are loaded once for all of them.
    const rowBytes = width * 3;
    for (let gx = 0; gx < gw; gx++) {
      const o = gx << 2;
      const k = cell[o + 3]!;
      if (k === 255) continue;
      const r = cell[o]!;
      const g = cell[o + 1]!;
      const b = cell[o + 2]!;
      const first = gy * rep * rowBytes + gx * rep * 3;
      for (let dy = 0; dy < rep; dy++) {
        for (let dx = 0, p = first + dy * rowBytes; dx < rep; dx++, p += 3) {
          // floor(v / 255), exact for v < 65535, truncating as libvips' composite did.
          let v = r + out[p]! * k;
          out[p] = (v + 1 + (v >> 8)) >> 8;
          v = g + out[p + 1]! * k;
          out[p + 1] = (v + 1 + (v >> 8)) >> 8;
          v = b + out[p + 2]! * k;
          out[p + 2] = (v + 1 + (v >> 8)) >> 8;
        }
      }
    }
  }
}

/**
 * Composite a straight RGBA image (`w`x`h`) over packed RGB `out` (`width`x`height`) at `left`,`top`, in
 * place, clipped to the image. For small overlays (label plates, the legend): a sharp call costs more than
 * the whole blend.
 */
export function blendRgbaOver(
  out: Uint8Array,
  width: number,
  height: number,
  rgba: Uint8Array,
  w: number,
  h: number,
  left: number,
  top: number,
): void {
  const xa = Math.max(0, left);
  const xb = Math.min(width, left + w);
  for (let y = Math.max(0, top); y < Math.min(height, top + h); y++) {
    let s = ((y - top) * w + (xa - left)) * 4;
    let p = (y * width + xa) * 3;
    for (let x = xa; x < xb; x++, s += 4, p += 3) {
      const a = rgba[s + 3]!;
      if (a === 0) continue;
      if (a === 255) {
        out[p] = rgba[s]!;
        out[p + 1] = rgba[s + 1]!;
        out[p + 2] = rgba[s + 2]!;
        continue;
      }
      // floor(v / 255), exact for v < 65535, truncating as libvips' composite did.
      const k = 255 - a;
      let v = rgba[s]! * a + out[p]! * k;
      out[p] = (v + 1 + (v >> 8)) >> 8;
      v = rgba[s + 1]! * a + out[p + 1]! * k;
      out[p + 1] = (v + 1 + (v >> 8)) >> 8;
      v = rgba[s + 2]! * a + out[p + 2]! * k;
      out[p + 2] = (v + 1 + (v >> 8)) >> 8;
    }
  }
}

const luts: Array<Uint16Array | undefined> = [];

/**
 * [alpha << 8 | premultiplied colour] → straight colour · alpha, with libvips' truncations: unpremultiply
 * (floor(p·255/a)), and for two-stage upsampling one more premultiply/unpremultiply round trip (the 2x stage).
 * A table, because three divisions per cell and channel cost more than the rest of the pass.
 */
function unpremultiplyLut(twoStages: boolean): Uint16Array {
  const k = twoStages ? 1 : 0;
  let lut = luts[k];
  if (lut) return lut;
  lut = new Uint16Array(256 * 256);
  for (let a = 1; a < 256; a++) {
    for (let p = 0; p < 256; p++) {
      let v = Math.min(255, Math.floor((p * 255) / a));
      if (twoStages) v = Math.min(255, Math.floor((Math.floor((v * a) / 255) * 255) / a));
      lut[(a << 8) | p] = v * a;
    }
  }
  luts[k] = lut;
  return lut;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
