// The colour-scale legend: a bar from 0 to 1 titled with the CAM method and colormap.
// It is the same on every frame of a video, so it is rendered once to raw RGBA and reused (svg-cache.ts).

import type { CamMethodName, ColormapName } from '../types.js';
import { DISPLAY_FLOOR, cssColorAt } from './colormap.js';
import { FONT_FAMILY, escapeXml, textWidth } from './text.js';
import { rawLayer, type Layer } from './raster.js';
import { rasteriseSvg, type RgbaImage, type SvgDrawing } from './svg-cache.js';

export type LegendImage = RgbaImage;

/** Legend placement on an image: bottom-right corner, or null when the image is too small for it. */
export function legendRect(
  width: number,
  height: number,
  method: string,
): { left: number; top: number; width: number; height: number } | null {
  const { w, h, margin } = legendSize(width, height, method);
  if (w + margin > width || h + margin > height) return null;
  return { left: width - w - margin, top: height - h - margin, width: w, height: h };
}

function legendScale(width: number, height: number): number {
  // 1 at 720p; quantised so nearby sizes share one cached image.
  return Math.max(0.5, Math.min(3, Math.round((Math.min(width, height) / 720) * 4) / 4));
}

function legendSize(width: number, height: number, method: string) {
  const s = legendScale(width, height);
  // Sized for the longest colormap name, so the placement does not depend on the colormap.
  const titleW = textWidth(legendTitle(method, 'inferno'), Math.round(11 * s));
  const w = Math.round(Math.max(190 * s, titleW + 16 * s));
  return { s, w, h: Math.round(48 * s), margin: Math.round(10 * s) };
}

function legendTitle(method: string, colormap: string): string {
  return `${method} · ${colormap} · below ${DISPLAY_FLOOR} not shown`;
}

/** The legend drawing (the inside of its <svg>). */
function legendSvg(w: number, h: number, s: number, method: string, colormap: ColormapName): string {
  const stops: string[] = [];
  // 33 stops follow every colormap here to within a few levels; jet's kinks fall on stops.
  for (let i = 0; i <= 32; i++) {
    const v = i / 32;
    stops.push(`<stop offset="${v}" stop-color="${cssColorAt(colormap, v)}"/>`);
  }
  const pad = 8 * s;
  const barY = 20 * s;
  const barH = 10 * s;
  const barW = w - 2 * pad;
  const fsTitle = Math.round(11 * s);
  const fsTick = Math.round(10 * s);
  const tickY = barY + barH + fsTick + 2 * s;
  const tick = (v: number, anchor: string) =>
    `<text x="${pad + barW * v}" y="${tickY}" text-anchor="${anchor}" font-family="${FONT_FAMILY}" ` +
    `font-size="${fsTick}" fill="#ffffff">${v}</text>`;
  return (
    // The id names the colormap: legends rasterised in one document (svg-cache.ts) never borrow another's.
    `<defs><linearGradient id="legend-${colormap}" x1="0" y1="0" x2="1" y2="0">${stops.join('')}</linearGradient></defs>` +
    `<rect width="${w}" height="${h}" rx="${4 * s}" fill="rgb(0,0,0)" fill-opacity="0.6"/>` +
    `<text x="${pad}" y="${barY - 5 * s}" font-family="${FONT_FAMILY}" font-size="${fsTitle}" fill="#ffffff">` +
    `${escapeXml(legendTitle(method, colormap))}</text>` +
    `<rect x="${pad}" y="${barY}" width="${barW}" height="${barH}" fill="url(#legend-${colormap})" stroke="#ffffff" ` +
    `stroke-opacity="0.6" stroke-width="${Math.max(1, s)}"/>` +
    // The part of the scale the overlay leaves unpainted (colormap.ts: DISPLAY_FLOOR), greyed out.
    `<rect x="${pad}" y="${barY}" width="${barW * DISPLAY_FLOOR}" height="${barH}" fill="rgb(60,60,60)"/>` +
    tick(0, 'start') +
    tick(0.5, 'middle') +
    tick(1, 'end')
  );
}

/** The legend for an image of `width`x`height` (rendered once per size/method/colormap: svg-cache.ts). */
export function legendImage(
  width: number,
  height: number,
  method: CamMethodName | string,
  colormap: ColormapName,
): Promise<LegendImage> {
  return rasteriseSvg(legendDrawing(width, height, method, colormap));
}

/** The legend's SVG drawing for an image of `width`x`height`. */
export function legendDrawing(width: number, height: number, method: string, colormap: ColormapName): SvgDrawing {
  const { s, w, h } = legendSize(width, height, method);
  return { body: legendSvg(w, h, s, method, colormap), width: w, height: h };
}

/** The legend as a composite layer in the bottom-right corner; null if the image is too small for it. */
export async function legendLayer(
  width: number,
  height: number,
  method: string,
  colormap: ColormapName,
): Promise<Layer | null> {
  const at = legendRect(width, height, method);
  if (!at) return null;
  const img = await legendImage(width, height, method, colormap);
  return rawLayer(img.data, img.width, img.height, at.left, at.top);
}
