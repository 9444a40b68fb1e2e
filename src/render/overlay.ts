// renderFrame: ExplainedFrame → RenderedFrame. The `blend` view lives here; `grid` is in grid.ts.

import {
  COLORMAPS,
  type ExplainedFrame,
  type Frame,
  type RenderOptions,
  type RenderedFrame,
  type SaliencyMap,
} from '../types.js';
import { UserError } from '../errors.js';
import { DISPLAY_FLOOR, OVERLAY_GAMMA, colorize } from './colormap.js';
import { combineMax } from './combine.js';
import { NO_BOXES, layoutBoxes } from './boxes.js';
import { legendImage, legendRect } from './legend.js';
import { drawLayers } from './raster.js';
import { blendMapOver, blendRgbaOver } from './blend.js';
import { rasteriseSvg } from './svg-cache.js';
import { renderGrid } from './grid.js';
import { normaliseInBoxes, regionBoxes } from './box-normalise.js';

/** Which maps to draw. */
export interface ShowOptions {
  /** Only maps with these labels; undefined or empty = all maps. Boxes are drawn for every detection regardless. */
  labels?: string[];
}

export async function renderFrame(
  explained: ExplainedFrame,
  opts: RenderOptions,
  show?: ShowOptions,
): Promise<RenderedFrame> {
  checkOptions(opts);
  const { frame } = explained;
  checkFrame(frame);
  const chosen = selectMaps(explained.maps, show?.labels);
  const maps = opts.normalise === 'box' ? normaliseInBoxes(chosen, [...explained.detections, ...regionBoxes(explained)], frame.width, frame.height) : chosen;
  const rgb = opts.view === 'grid' ? await renderGrid(explained, maps, opts) : await renderBlend(explained, maps, opts);
  return { explained, width: frame.width, height: frame.height, rgb };
}

export function selectMaps(maps: readonly SaliencyMap[], labels?: readonly string[]): SaliencyMap[] {
  if (!labels || labels.length === 0) return [...maps];
  const wanted = new Set(labels);
  return maps.filter((m) => wanted.has(m.label));
}

async function renderBlend(ex: ExplainedFrame, maps: SaliencyMap[], opts: RenderOptions): Promise<Uint8Array> {
  const { width, height, rgb } = ex.frame;
  // Rasterise the text (cached) while the map is blended; SVGs only go to librsvg on a cache miss.
  const boxes = opts.boxes ? layoutBoxes([...ex.detections, ...regionBoxes(ex)], 1, 1, width, height) : NO_BOXES;
  const legendAt = opts.legend ? legendRect(width, height, ex.record.method) : null;
  const texts = Promise.all([
    ...boxes.labels.map(async (l) => ({ ...(await rasteriseSvg(l.drawing)), left: l.left, top: l.top })),
    ...(legendAt
      ? [legendImage(width, height, ex.record.method, opts.colormap).then((img) => ({ ...img, left: legendAt.left, top: legendAt.top }))]
      : []),
  ]);
  // Copy rather than alias: the caller's frame may be reused by the decoder.
  const out = Buffer.from(rgb);
  // Max rather than sum: overlapping classes must not saturate, and each class's peak stays its own value.
  const combined = combineMax(maps);
  if (combined) {
    const rgba = colorize(combined.data, combined.width, combined.height, opts.colormap, opts.alpha, OVERLAY_GAMMA, DISPLAY_FLOOR);
    blendMapOver(out, width, height, rgba, combined.width, combined.height);
  }
  for (const t of await texts) blendRgbaOver(out, width, height, t.data, t.width, t.height, t.left, t.top);
  // Outlines above the map, below the plates and the legend.
  const keepClear = [...boxes.plateRects];
  if (legendAt) {
    const { left, top } = legendAt;
    keepClear.push({ x0: left, y0: top, x1: left + legendAt.width, y1: top + legendAt.height });
  }
  return drawLayers(out, width, height, [], boxes.edges, keepClear, true);
}

function checkOptions(opts: RenderOptions): void {
  if (!(COLORMAPS as readonly string[]).includes(opts.colormap)) {
    throw new UserError(`unknown colormap "${opts.colormap}" (expected one of: ${COLORMAPS.join(', ')})`);
  }
  if (!(opts.alpha >= 0 && opts.alpha <= 1)) {
    throw new UserError(`overlay alpha must be between 0 and 1, got ${opts.alpha}`);
  }
  if (opts.view !== 'blend' && opts.view !== 'grid') {
    throw new UserError(`unknown view "${String(opts.view)}" (expected blend or grid)`);
  }
}

function checkFrame(f: Frame): void {
  if (!(f.width >= 1 && f.height >= 1) || !Number.isInteger(f.width) || !Number.isInteger(f.height)) {
    throw new Error(`frame ${f.index} has invalid size ${f.width}x${f.height}`);
  }
  if (f.rgb.length !== f.width * f.height * 3) {
    throw new Error(`frame ${f.index} has ${f.rgb.length} bytes, expected ${f.width}x${f.height}x3`);
  }
}
