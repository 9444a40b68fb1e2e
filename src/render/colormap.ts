// Colour lookup tables for saliency maps and the colourisation of a map into RGBA.
// Work here is per map pixel (low resolution); upsampling to the frame is left to sharp.

import { COLORMAPS, type ColormapName } from '../types.js';
import { UserError } from '../errors.js';
import { TURBO_HEX } from './turbo-table.js';

/** 256 entries × RGB, index = round(value * 255). */
export type Lut = Uint8Array;

type Rgb01 = [number, number, number];

// Google's Turbo, from the published table (the LUT is built at i/255, so entries come back exactly).
const TURBO = Uint8Array.from(TURBO_HEX.match(/../g)!, (h) => parseInt(h, 16));
function turbo(x: number): Rgb01 {
  const i = Math.round(x * 255) * 3;
  return [TURBO[i]! / 255, TURBO[i + 1]! / 255, TURBO[i + 2]! / 255];
}

// Classic MATLAB jet: three clipped triangles, dark blue → cyan → yellow → dark red.
function jet(x: number): Rgb01 {
  const tri = (c: number) => Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - c)));
  return [tri(3), tri(2), tri(1)];
}

// Degree-6 minimax fits of matplotlib's viridis/inferno (mattz, CC0; data from BIDS/colormap, CC0).
// They stay within a few 8-bit levels of the real tables: invisible in a translucent overlay.
type Poly6 = readonly [Rgb01, Rgb01, Rgb01, Rgb01, Rgb01, Rgb01, Rgb01];
const VIRIDIS: Poly6 = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];
const INFERNO: Poly6 = [
  [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
  [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
  [11.60249308247187, -3.972853965665698, -15.9423941062914],
  [-41.70399613139459, 17.43639888205313, 44.35414519872813],
  [77.162935699427, -33.40235894210092, -81.80730925738993],
  [-71.31942824499214, 32.62606426397723, 73.20951985803202],
  [25.13112622477341, -12.24266895238567, -23.07032500287172],
];

function horner(c: Poly6, x: number): Rgb01 {
  const out: Rgb01 = [0, 0, 0];
  for (let ch = 0; ch < 3; ch++) {
    let v = 0;
    for (let k = 6; k >= 0; k--) v = v * x + c[k]![ch]!;
    out[ch] = v;
  }
  return out;
}

const GENERATORS: Record<ColormapName, (x: number) => Rgb01> = {
  turbo,
  jet,
  viridis: (x) => horner(VIRIDIS, x),
  inferno: (x) => horner(INFERNO, x),
};

const luts = new Map<ColormapName, Lut>();

/** The 256-entry RGB table of a colormap (built once, then cached). */
export function colormapLut(name: ColormapName): Lut {
  let lut = luts.get(name);
  if (lut) return lut;
  const gen = GENERATORS[name];
  if (!gen) throw new UserError(`unknown colormap "${String(name)}" (expected one of: ${COLORMAPS.join(', ')})`);
  lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const rgb = gen(i / 255);
    for (let ch = 0; ch < 3; ch++) lut[i * 3 + ch] = Math.round(Math.min(1, Math.max(0, rgb[ch]!)) * 255);
  }
  luts.set(name, lut);
  return lut;
}

/** Colour of one value in [0, 1] (clamped), as [r, g, b] 0..255. */
export function colorAt(name: ColormapName, value: number): [number, number, number] {
  const lut = colormapLut(name);
  const i = lutIndex(value) * 3;
  return [lut[i]!, lut[i + 1]!, lut[i + 2]!];
}

/** `rgb(r,g,b)` for SVG. */
export function cssColorAt(name: ColormapName, value: number): string {
  const [r, g, b] = colorAt(name, value);
  return `rgb(${r},${g},${b})`;
}

function lutIndex(value: number): number {
  // `!(v > 0)` also maps NaN to 0, so a bad map value shows as cold instead of throwing.
  if (!(value > 0)) return 0;
  if (value >= 1) return 255;
  return Math.round(value * 255);
}

/**
 * Gamma the renderer uses: alpha rises a little slower than linear, so the low, broad floor most CAM
 * maps have stays faint and the hot regions carry the colour.
 */
export const OVERLAY_GAMMA = 0.8;

/**
 * Map values below this are not painted (and the legend says so). Measured on the six stills and every 4th frame
 * of the sample drive (XGrad-CAM, combined class maps; scripts/display-floor.mjs): with no floor 68 % of
 * the frame outside every box carries some tint; a floor of 0.05 / 0.1 / 0.15 / 0.2 leaves 25 / 3.6 / 1.0 / 0.3 %
 * and hides 5 / 18 / 29 / 37 % of the map mass inside the boxes. 0.1 is the knee: each further step hides ~10 %
 * more of the objects' own heat to clear a point or two of the frame.
 */
export const DISPLAY_FLOOR = 0.1;

/**
 * Colourise a map at its own resolution into straight (not premultiplied) RGBA.
 * Alpha = value^gamma · alpha · 255, so cold regions stay transparent; gamma > 1 fades weak activations.
 */
export function colorize(
  map: Float32Array,
  width: number,
  height: number,
  name: ColormapName,
  alpha: number,
  gamma = 1,
  floor = 0,
): Uint8Array {
  const n = width * height;
  if (map.length < n) throw new Error(`colorize: map has ${map.length} values, expected ${width}x${height}`);
  const lut = colormapLut(name);
  // Alpha per LUT index, so the pow() runs 256 times instead of once per pixel.
  const alphaLut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) alphaLut[i] = i / 255 < floor ? 0 : Math.round(Math.pow(i / 255, gamma) * alpha * 255);
  const out = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    const i = lutIndex(map[p]!);
    const o = p * 4;
    out[o] = lut[i * 3]!;
    out[o + 1] = lut[i * 3 + 1]!;
    out[o + 2] = lut[i * 3 + 2]!;
    out[o + 3] = alphaLut[i]!;
  }
  return out;
}
