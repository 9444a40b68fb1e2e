// The `grid` view: the frame with boxes, then one tile per map (dimmed frame + that map), all scaled
// down into an image of the frame's own size, so a video encoder sees a constant frame size.

import sharp from 'sharp';
import type { Detection, ExplainedFrame, RenderOptions, SaliencyMap } from '../types.js';
import { DISPLAY_FLOOR, OVERLAY_GAMMA, colorize } from './colormap.js';
import { checkMap } from './combine.js';
import { classColor } from './class-colors.js';
import { NO_BOXES, boxStyleFor, layoutBoxes, titleSvg } from './boxes.js';
import { regionBoxes } from './box-normalise.js';
import { legendLayer } from './legend.js';
import { asBuffer, compositeRgb, drawLayers, layerRect, pasteTiles, rawLayer, svgLayer } from './raster.js';
import { upsamplePatches } from './upsample.js';

/** Brightness of the frame under a map tile: dark enough that the colours read, light enough to see the scene. */
const DIM = 0.5;

export interface GridLayout {
  cols: number;
  rows: number;
  tileW: number;
  tileH: number;
  /** Top-left corner of each tile, in tile order (row-major), centred in the image. */
  cells: Array<{ left: number; top: number }>;
}

/**
 * Near-square grid for `n` tiles. Every tile keeps the frame's aspect ratio, scaled by 1/max(cols, rows);
 * unused space stays black.
 */
export function gridLayout(n: number, width: number, height: number): GridLayout {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  const k = Math.max(cols, rows);
  const tileW = Math.max(1, Math.floor(width / k));
  const tileH = Math.max(1, Math.floor(height / k));
  const x0 = Math.floor((width - cols * tileW) / 2);
  const y0 = Math.floor((height - rows * tileH) / 2);
  const cells = [];
  for (let i = 0; i < n; i++) {
    cells.push({ left: x0 + (i % cols) * tileW, top: y0 + Math.floor(i / cols) * tileH });
  }
  return { cols, rows, tileW, tileH, cells };
}

/** Title of a map's tile. */
export function tileTitle(m: SaliencyMap): string {
  if (m.region) return `why ${m.label} @${m.region.map((v) => Math.round(v)).join(',')}`;
  const base = m.detectionIndex === undefined ? m.label : `${m.label} #${m.detectionIndex}`;
  return m.versus ? `${base} vs ${m.versus}` : base;
}

export async function renderGrid(ex: ExplainedFrame, maps: SaliencyMap[], opts: RenderOptions): Promise<Uint8Array> {
  for (const m of maps) checkMap(m);
  const { width, height, rgb } = ex.frame;
  const layout = gridLayout(maps.length + 1, width, height);
  const { tileW, tileH } = layout;
  const sx = tileW / width;
  const sy = tileH / height;
  const style = boxStyleFor(tileW, tileH);

  // The one full-resolution read: shrink the frame once, everything after works at tile size.
  const small = await sharp(asBuffer(rgb), { raw: { width, height, channels: 3 } })
    .resize(tileW, tileH, { fit: 'fill' })
    .raw()
    .toBuffer();
  const dim =
    maps.length > 0
      ? await sharp(small, { raw: { width: tileW, height: tileH, channels: 3 } }).linear(DIM, 0).raw().toBuffer()
      : small;

  const frameTile = () => {
    const boxes = opts.boxes ? layoutBoxes(ex.detections, sx, sy, tileW, tileH, style) : NO_BOXES;
    const title = svgLayer(titleSvg('frame', '#9e9e9e', tileW, tileH, style));
    const keepClear = [...boxes.plateRects, layerRect(title)];
    return drawLayers(small, tileW, tileH, [...boxes.plates.map(svgLayer), title], boxes.edges, keepClear);
  };

  const mapTile = async (m: SaliencyMap) => {
    const rgba = colorize(m.data, m.width, m.height, opts.colormap, opts.alpha, OVERLAY_GAMMA, DISPLAY_FLOOR);
    const under = (await upsamplePatches(rgba, m.width, m.height, tileW, tileH)).map((p) =>
      rawLayer(p.data, p.width, p.height, p.left, p.top),
    );
    const boxes = opts.boxes ? layoutBoxes(detectionsOf([...ex.detections, ...regionBoxes(ex)], m), sx, sy, tileW, tileH, style) : NO_BOXES;
    const title = svgLayer(titleSvg(tileTitle(m), classColor(m.classId, m.label).hex, tileW, tileH, style));
    const keepClear = [...boxes.plateRects, layerRect(title)];
    return drawLayers(dim, tileW, tileH, [...under, ...boxes.plates.map(svgLayer), title], boxes.edges, keepClear);
  };

  const tiles = await Promise.all([frameTile(), ...maps.map(mapTile)]);
  // Tiles are opaque and disjoint: copy them into place instead of blending a whole-frame composite.
  const canvas = pasteTiles(
    width,
    height,
    tiles.map((data, i) => ({ data, ...layout.cells[i]!, width: tileW, height: tileH })),
  );
  if (!opts.legend) return canvas;
  const l = await legendLayer(width, height, ex.record.method, opts.colormap);
  return l ? compositeRgb(canvas, width, height, [l], true) : canvas;
}

/** The detections a map explains: its own detection, or every detection of its class. */
function detectionsOf(all: readonly Detection[], m: SaliencyMap): Detection[] {
  if (m.region) return all.filter((d) => d.label === `why ${m.label}` && d.box.every((v, i) => v === m.region![i]));
  if (m.detectionIndex !== undefined) {
    const d = all[m.detectionIndex];
    return d ? [d] : [];
  }
  return all.filter((d) => d.label === m.label);
}
