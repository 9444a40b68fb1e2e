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
import { OVERLAY_GAMMA, colorize } from './colormap.js';
import { combineMax } from './combine.js';
import { NO_BOXES, layoutBoxes } from './boxes.js';
import { legendLayer } from './legend.js';
import { drawLayers, layerRect, rawLayer, svgLayer, type Layer } from './raster.js';
import { upsamplePatches } from './upsample.js';
import { renderGrid } from './grid.js';

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
  const maps = selectMaps(explained.maps, show?.labels);
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
  const under: Layer[] = [];
  // Max rather than sum: overlapping classes must not saturate, and each class's peak stays its own value.
  const combined = combineMax(maps);
  if (combined) {
    const rgba = colorize(combined.data, combined.width, combined.height, opts.colormap, opts.alpha, OVERLAY_GAMMA);
    for (const p of await upsamplePatches(rgba, combined.width, combined.height, width, height)) {
      under.push(rawLayer(p.data, p.width, p.height, p.left, p.top));
    }
  }
  const boxes = opts.boxes ? layoutBoxes(ex.detections, 1, 1, width, height) : NO_BOXES;
  const over = boxes.plates.map(svgLayer);
  if (opts.legend) {
    const l = await legendLayer(width, height, ex.record.method, opts.colormap);
    if (l) over.push(l);
  }
  const keepClear = [...boxes.plateRects, ...over.filter((l) => l.raw).map(layerRect)];
  return drawLayers(rgb, width, height, [...under, ...over], boxes.edges, keepClear);
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
