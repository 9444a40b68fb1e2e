// Shared toy fixtures for the audit tests (not a test file itself).
import { mulberry32 } from '../src/audit/rng.js';
import type { MapGrid } from '../src/audit/types.js';
import type { Box } from '../src/types.js';

/** A w x h RGB24 image: region pixels bright red, the rest dark seeded noise. */
export function toyImage(w: number, h: number, region: Box, seed = 7): Uint8Array {
  const next = mulberry32(seed);
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const inside = x >= region[0] && x < region[2] && y >= region[1] && y < region[3];
      rgb[i] = inside ? 230 : Math.floor(next() * 40);
      rgb[i + 1] = Math.floor(next() * 80);
      rgb[i + 2] = Math.floor(next() * 80);
    }
  }
  return rgb;
}

/** A map equal to the mask of `box` (frame pixels) at map resolution, by cell centres. */
export function boxMaskMap(mw: number, mh: number, box: Box, frameW: number, frameH: number): MapGrid {
  const data = new Float32Array(mw * mh);
  for (let y = 0; y < mh; y++) {
    for (let x = 0; x < mw; x++) {
      const px = ((x + 0.5) * frameW) / mw;
      const py = ((y + 0.5) * frameH) / mh;
      data[y * mw + x] = px >= box[0] && px < box[2] && py >= box[1] && py < box[3] ? 1 : 0;
    }
  }
  return { width: mw, height: mh, data };
}
