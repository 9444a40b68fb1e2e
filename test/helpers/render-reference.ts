// The blend view as it was rendered before the fused pass (src/render/blend.ts) and the SVG cache
// (src/render/svg-cache.ts): libvips upsampling in patches, composited with the label plates (SVG, rendered
// afresh) and the legend in sharp. Kept as the reference the new renderer must match (test/render-fast.test.ts)
// and as the "old" side of scripts/bench-render.ts.

import type { ExplainedFrame, RenderOptions } from '../../src/types.js';
import { DISPLAY_FLOOR, OVERLAY_GAMMA, colorize } from '../../src/render/colormap.js';
import { combineMax } from '../../src/render/combine.js';
import { NO_BOXES, layoutBoxes } from '../../src/render/boxes.js';
import { legendLayer } from '../../src/render/legend.js';
import { drawLayers, layerRect, rawLayer, svgLayer, type Layer } from '../../src/render/raster.js';
import { upsamplePatches } from '../../src/render/upsample.js';

export async function renderBlendReference(ex: ExplainedFrame, opts: RenderOptions): Promise<Uint8Array> {
  const { width, height, rgb } = ex.frame;
  const under: Layer[] = [];
  const combined = combineMax(ex.maps);
  if (combined) {
    const rgba = colorize(combined.data, combined.width, combined.height, opts.colormap, opts.alpha, OVERLAY_GAMMA, DISPLAY_FLOOR);
    for (const p of await upsamplePatches(rgba, combined.width, combined.height, width, height)) {
      under.push(rawLayer(p.data, p.width, p.height, p.left, p.top));
    }
  }
  const boxes = opts.boxes ? layoutBoxes(ex.detections, 1, 1, width, height) : NO_BOXES;
  const over = boxes.plates.map(svgLayer);
  if (opts.legend) {
    // The legend was already rendered once and reused (its raster is the same either way).
    const l = await legendLayer(width, height, ex.record.method, opts.colormap);
    if (l) over.push(l);
  }
  const keepClear = [...boxes.plateRects, ...over.filter((l) => l.raw).map(layerRect)];
  return drawLayers(rgb, width, height, [...under, ...over], boxes.edges, keepClear);
}
