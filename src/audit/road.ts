// ROAD's noisy linear imputation (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy for
// Attribution Methods"): a removed pixel is not painted with a fixed colour (which tells the detector where the
// removed pixels are, and pushes it off its data) but set to the weighted mean of its 8 neighbours — weight 1/6
// for the 4 direct ones, 1/12 for the diagonals, over the neighbours inside the image — solved jointly for all
// removed pixels (a sparse linear system whose known values are the kept pixels), then Gaussian noise is added.
// Solved here by conjugate gradients on the removed pixels (the system is symmetric and, wherever a removed
// region touches a kept pixel, positive definite); a region with no kept pixel at all gets the image's mean.
import { mulberry32 } from './rng.js';

const NEIGHBOURS: readonly [number, number, number][] = [
  [0, 1, 1 / 6],
  [0, -1, 1 / 6],
  [1, 0, 1 / 6],
  [-1, 0, 1 / 6],
  [1, 1, 1 / 12],
  [1, -1, 1 / 12],
  [-1, 1, 1 / 12],
  [-1, -1, 1 / 12],
];

export interface RoadOptions {
  /** Standard deviation of the noise added to imputed values, in 0-255 levels (ROAD: 0.01 of the range). */
  noise: number;
  seed: number;
  /** CG stops when the largest residual is below this (levels) or after maxIterations. */
  tolerance: number;
  maxIterations: number;
}

// Tolerance: a fifth of the noise's spread; what is left of the error then drowns in the noise.
export const ROAD_DEFAULTS: RoadOptions = { noise: 2.55, seed: 1, tolerance: 0.5, maxIterations: 300 };

/**
 * `image` (RGB floats, row-major, 3 per pixel) with the pixels where `known[p]` is 0 imputed.
 * Each channel solves: for every removed pixel i, s_i·x_i − Σ_{removed j ~ i} w_ij·x_j = Σ_{kept k ~ i} w_ik·v_k,
 * s_i = Σ of the weights of i's neighbours inside the image.
 */
export function roadImpute(image: Float32Array, known: Uint8Array, width: number, height: number, options: Partial<RoadOptions> = {}): Float32Array {
  const o = { ...ROAD_DEFAULTS, ...options };
  const n = width * height;
  if (image.length !== n * 3 || known.length !== n) throw new Error('audit: ROAD image and mask sizes differ');
  const out = new Float32Array(image);
  const vars: number[] = [];
  const index = new Int32Array(n).fill(-1);
  for (let p = 0; p < n; p++) if (!known[p]) index[p] = vars.push(p) - 1;
  const m = vars.length;
  if (m === 0) return out;
  const rand = gaussian(mulberry32(o.seed));
  if (m === n) {
    // Nothing kept: every constant solves the system; take the image's mean colour.
    const mean = [0, 0, 0];
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) mean[c]! += image[p * 3 + c]!;
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = mean[c]! / n + o.noise * rand();
    return out;
  }
  // Neighbour lists of each unknown: kept ones go to the right-hand side, removed ones into the matrix.
  const diag = new Float64Array(m);
  const nbStart = new Int32Array(m + 1);
  const nbVar: number[] = [];
  const nbW: number[] = [];
  const rhs = [new Float64Array(m), new Float64Array(m), new Float64Array(m)];
  for (let i = 0; i < m; i++) {
    const p = vars[i]!;
    const x = p % width;
    const y = (p - x) / width;
    for (const [dx, dy, w] of NEIGHBOURS) {
      const nx = x + dx;
      const ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      diag[i]! += w;
      const q = ny * width + nx;
      const j = index[q]!;
      if (j >= 0) {
        nbVar.push(j);
        nbW.push(w);
      } else for (let c = 0; c < 3; c++) rhs[c]![i]! += w * image[q * 3 + c]!;
    }
    nbStart[i + 1] = nbVar.length;
  }
  const apply = (v: Float64Array, into: Float64Array): void => {
    for (let i = 0; i < m; i++) {
      let s = diag[i]! * v[i]!;
      for (let k = nbStart[i]!; k < nbStart[i + 1]!; k++) s -= nbW[k]! * v[nbVar[k]!]!;
      into[i] = s;
    }
  };
  const x = new Float64Array(m);
  const r = new Float64Array(m);
  const d = new Float64Array(m);
  const q = new Float64Array(m);
  for (let c = 0; c < 3; c++) {
    // Warm start: a pull-push fill of the hole (coarse averages of the kept pixels), close to the smooth answer.
    const guess = pullPush(image, known, width, height, c);
    for (let i = 0; i < m; i++) x[i] = guess[vars[i]!]!;
    apply(x, q);
    let rr = 0;
    for (let i = 0; i < m; i++) {
      r[i] = rhs[c]![i]! - q[i]!;
      d[i] = r[i]!;
      rr += r[i]! * r[i]!;
    }
    for (let it = 0; it < o.maxIterations && maxAbs(r) > o.tolerance; it++) {
      apply(d, q);
      let dq = 0;
      for (let i = 0; i < m; i++) dq += d[i]! * q[i]!;
      if (!(dq > 0)) break; // a removed region with no kept neighbour: singular there, left as it is
      const alpha = rr / dq;
      let rr2 = 0;
      for (let i = 0; i < m; i++) {
        x[i]! += alpha * d[i]!;
        r[i]! -= alpha * q[i]!;
        rr2 += r[i]! * r[i]!;
      }
      const beta = rr2 / rr;
      rr = rr2;
      for (let i = 0; i < m; i++) d[i] = r[i]! + beta * d[i]!;
    }
    for (let i = 0; i < m; i++) out[vars[i]! * 3 + c] = x[i]! + o.noise * rand();
  }
  return out;
}

/** One channel with its holes filled from ever coarser averages of the kept pixels (pull-push). */
function pullPush(image: Float32Array, known: Uint8Array, width: number, height: number, c: number): Float32Array {
  let w = width;
  let h = height;
  let val = new Float32Array(w * h);
  let wt = new Float32Array(w * h);
  for (let p = 0; p < w * h; p++) if (known[p]) {
    val[p] = image[p * 3 + c]!;
    wt[p] = 1;
  }
  const levels: { w: number; h: number; val: Float32Array; wt: Float32Array }[] = [{ w, h, val, wt }];
  while (w > 1 || h > 1) {
    const nw = Math.ceil(w / 2);
    const nh = Math.ceil(h / 2);
    const v2 = new Float32Array(nw * nh);
    const w2 = new Float32Array(nw * nh);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const q = (y >> 1) * nw + (x >> 1);
      v2[q]! += val[y * w + x]! * wt[y * w + x]!;
      w2[q]! += wt[y * w + x]!;
    }
    for (let q = 0; q < nw * nh; q++) if (w2[q]! > 0) v2[q]! /= w2[q]!;
    [w, h, val, wt] = [nw, nh, v2, w2];
    levels.push({ w, h, val, wt });
  }
  // Push: a cell without kept pixels takes its parent's value.
  for (let l = levels.length - 2; l >= 0; l--) {
    const a = levels[l]!;
    const b = levels[l + 1]!;
    for (let y = 0; y < a.h; y++) for (let x = 0; x < a.w; x++) {
      const p = y * a.w + x;
      if (!(a.wt[p]! > 0)) a.val[p] = b.val[(y >> 1) * b.w + (x >> 1)]!;
    }
  }
  return levels[0]!.val;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}

/** Standard normal draws (Box-Muller) from a uniform source. */
function gaussian(next: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}
