// Detection boxes (class-colour outlines) with "label score" plates, and the plates' SVG.

import type { Detection } from '../types.js';
import { classColor } from './class-colors.js';
import { FONT_FAMILY, escapeXml, textWidth } from './text.js';
import { cluster, type Rect as PixelRect } from './rects.js';
import type { SolidRect } from './raster.js';
import type { SvgDrawing } from './svg-cache.js';
import { groupByBox, groupText, placePlate, type PlateRect as PlateRectXY } from './label-layout.js';

/** Sizes that scale with the image the boxes are drawn on. */
export interface BoxStyle {
  fontSize: number;
  /** Box outline width; drawn inside the box so the outermost box pixel is the class colour. */
  stroke: number;
}

export function boxStyleFor(width: number, height: number): BoxStyle {
  const short = Math.min(width, height);
  return {
    fontSize: clamp(Math.round(short / 45), 10, 32),
    stroke: clamp(Math.round(short / 240), 2, 6),
  };
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LabelPlate extends Rect {
  /** Width of the class-colour stripe at the plate's left edge. */
  stripe: number;
}

/** Text shown on a detection's plate. */
export function detectionText(d: Detection): string {
  return `${d.label} ${d.score.toFixed(2)}`;
}

/**
 * Where the plate for `text` goes: above the box when there is room, else just inside its top edge;
 * shifted left if it would leave the image.
 */
export function labelPlate(box: Rect, text: string, style: BoxStyle, width: number, height: number): LabelPlate {
  const fs = style.fontSize;
  const pad = Math.round(fs * 0.35);
  const stripe = Math.max(3, Math.round(fs * 0.3));
  const w = Math.min(width, stripe + pad * 2 + textWidth(text, fs));
  const h = Math.min(height, Math.round(fs * 1.45));
  const y = box.y - h >= 0 ? box.y - h : Math.min(box.y, height - h);
  const x = clamp(box.x, 0, Math.max(0, width - w));
  return { x, y, w, h, stripe };
}

/**
 * Box in integer pixels of a `width`x`height` image that is the source scaled by `sx`, `sy`,
 * clipped to it; null if nothing is left.
 */
export function scaledBox(d: Detection, sx: number, sy: number, width: number, height: number): Rect | null {
  const [x1, y1, x2, y2] = d.box;
  const l = clamp(Math.round(Math.min(x1, x2) * sx), 0, width);
  const t = clamp(Math.round(Math.min(y1, y2) * sy), 0, height);
  const r = clamp(Math.round(Math.max(x1, x2) * sx), 0, width);
  const b = clamp(Math.round(Math.max(y1, y2) * sy), 0, height);
  if (!(r > l && b > t)) return null;
  return { x: l, y: t, w: r - l, h: b - t };
}

export interface SvgOverlay {
  svg: Buffer;
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface BoxDrawing {
  /** Box outlines as solid rectangles, written straight into the pixels: no compositing needed for them. */
  edges: SolidRect[];
  /** Label plates as SVGs (nearby plates share one, to save librsvg calls), composited before the edges. */
  plates: SvgOverlay[];
  /** Where the plates are, so the edges can leave them clear and the text stays on top. */
  plateRects: PixelRect[];
  /**
   * The same plates one by one, each an SVG drawn at its own origin: the same label looks the same SVG on
   * every frame wherever it is, so its raster can be cached (svg-cache.ts).
   */
  labels: PlacedSvg[];
}

/** An SVG drawing and where its top-left corner goes on the image. */
export interface PlacedSvg {
  drawing: SvgDrawing;
  left: number;
  top: number;
}

export const NO_BOXES: BoxDrawing = { edges: [], plates: [], plateRects: [], labels: [] };

/**
 * Outlines and label plates for `detections` on a `width`x`height` image that is the source frame scaled
 * by `sx`, `sy`. Outlines are integer-aligned, so solid rectangles draw them exactly; only the plates
 * (text) need librsvg, and over their own area only, since rendering and compositing cost grows with area
 * and boxes are spread across the frame.
 */
export function layoutBoxes(
  detections: readonly Detection[],
  sx: number,
  sy: number,
  width: number,
  height: number,
  style: BoxStyle = boxStyleFor(width, height),
): BoxDrawing {
  const edges: SolidRect[] = [];
  const plates: Array<{ rect: PixelRect; svg: string }> = [];
  const labels: PlacedSvg[] = [];
  const placed: PlateRectXY[] = [];
  // One outline and one plate per box, whatever the number of classes sharing it (label-layout.ts).
  for (const group of groupByBox(detections)) {
    const d = group.members[0]!;
    const box = scaledBox(d, sx, sy, width, height);
    if (!box) continue;
    const { hex, rgb } = classColor(d.classId, d.label);
    const sw = Math.max(1, Math.min(style.stroke, Math.floor(Math.min(box.w, box.h) / 2)));
    const inner = box.h - 2 * sw;
    edges.push({ x: box.x, y: box.y, w: box.w, h: sw, rgb });
    edges.push({ x: box.x, y: box.y + box.h - sw, w: box.w, h: sw, rgb });
    if (inner > 0) {
      edges.push({ x: box.x, y: box.y + sw, w: sw, h: inner, rgb });
      edges.push({ x: box.x + box.w - sw, y: box.y + sw, w: sw, h: inner, rgb });
    }
    const text = groupText(group);
    const size = labelPlate(box, text, style, width, height);
    const p = { ...size, ...placePlate(box, size.w, size.h, width, height, placed) };
    placed.push(p);
    const rect = { x0: p.x, y0: p.y, x1: p.x + p.w, y1: p.y + p.h };
    plates.push({ rect, svg: plateSvg(p, text, hex, style.fontSize) });
    const own = plateSvg({ ...p, x: 0, y: 0 }, text, hex, style.fontSize);
    labels.push({ drawing: { body: own, width: p.w, height: p.h }, left: p.x, top: p.y });
  }
  const svgs = cluster(plates, (p) => p.rect).map((g) =>
    cropSvg(g.items.map((p) => p.svg).join(''), { l: g.rect.x0, t: g.rect.y0, r: g.rect.x1, b: g.rect.y1 }),
  );
  return { edges, plates: svgs, plateRects: plates.map((p) => p.rect), labels };
}

/** A title plate in the top-left corner of a `width`x`height` image (grid tiles). */
export function titleSvg(text: string, color: string, width: number, height: number, style: BoxStyle): SvgOverlay {
  const p = labelPlate({ x: 0, y: 0, w: width, h: height }, text, style, width, height);
  return cropSvg(plateSvg(p, text, color, style.fontSize), { l: p.x, t: p.y, r: p.x + p.w, b: p.y + p.h });
}

/** A dark plate with a class-colour stripe and white text: readable over any footage. */
export function plateSvg(p: LabelPlate, text: string, color: string, fontSize: number): string {
  const pad = Math.round(fontSize * 0.35);
  const baseline = p.y + Math.round((p.h - fontSize) / 2 + fontSize * 0.8);
  return (
    `<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="rgb(16,16,16)" fill-opacity="0.85"/>` +
    `<rect x="${p.x}" y="${p.y}" width="${p.stripe}" height="${p.h}" fill="${color}"/>` +
    `<text x="${p.x + p.stripe + pad}" y="${baseline}" font-family="${FONT_FAMILY}" font-size="${fontSize}" ` +
    `fill="#ffffff">${escapeXml(text)}</text>`
  );
}

/** Wrap SVG drawn in image coordinates into a document covering only `bounds`, placed at its corner. */
export function cropSvg(body: string, bounds: { l: number; t: number; r: number; b: number }): SvgOverlay {
  const left = Math.floor(bounds.l);
  const top = Math.floor(bounds.t);
  const w = Math.max(1, Math.ceil(bounds.r) - left);
  const h = Math.max(1, Math.ceil(bounds.b) - top);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">` +
    `<g transform="translate(${-left},${-top})">${body}</g></svg>`;
  return { svg: Buffer.from(svg), left, top, width: w, height: h };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
