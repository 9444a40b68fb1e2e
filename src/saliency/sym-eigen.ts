// The top eigenpair of a small symmetric matrix, exactly (to float64 rounding): Householder reduction to
// tridiagonal form, QL for the eigenvalues, inverse iteration for the top vector (tred2/tql1 of EISPACK, as in
// JAMA). O(n³), no iteration count to tune and no dependence on the gap between eigenvalues, unlike power iteration.

/**
 * The largest eigenvalue of the symmetric n×n matrix `a` (row-major) and a unit eigenvector for it. The
 * eigenvalues come from QL without vectors (O(n²) after the reduction); the vector from inverse iteration on the
 * tridiagonal form just above the top eigenvalue, which converges in a step or two however close the next
 * eigenvalue is, then the Householder transformation back.
 */
export function topEigenpair(a: ArrayLike<number>, n: number): { value: number; vector: Float64Array } {
  if (a.length !== n * n) throw new Error(`topEigenpair: ${a.length} values for ${n}x${n}`);
  const V = Float64Array.from(a);
  // Symmetrise: float32 matMul results may differ from their transpose in the last bit.
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) V[i * n + j] = V[j * n + i] = (V[i * n + j]! + V[j * n + i]!) / 2;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const h = tred2(V, d, e, n);
  // T: diagonal d, off-diagonal e[i] between rows i − 1 and i.
  const values = Float64Array.from(d);
  const off = Float64Array.from(e);
  tql1(values, off, n);
  const value = values.reduce((m, v) => Math.max(m, v), -Infinity);
  return { value, vector: applyQ(V, h, topTridiagonalVector(d, e, n, value), n) };
}

/**
 * Inverse iteration for T's top eigenvector: μI − T with μ just above λ_max is positive definite, so its LDLᵀ
 * needs no pivoting; each solve shrinks the other components by (μ − λ_max)/(μ − λ_i).
 */
function topTridiagonalVector(d: Float64Array, e: Float64Array, n: number, top: number): Float64Array {
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]!) + Math.abs(e[i]!));
  const tiny = (scale || 1) * 1e-300;
  const mu = top + (scale || 1) * 1e-12;
  // LDLᵀ of M = μI − T: pivots p, multipliers l.
  const p = new Float64Array(n);
  const l = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const diag = mu - d[i]!;
    if (i === 0) p[0] = diag;
    else {
      l[i] = -e[i]! / p[i - 1]!;
      p[i] = diag - l[i]! * l[i]! * p[i - 1]!;
    }
    if (!(p[i]! > tiny)) p[i] = tiny;
  }
  let x = new Float64Array(n).fill(1 / Math.sqrt(n));
  for (let iter = 0; iter < 3; iter++) {
    const z = Float64Array.from(x);
    for (let i = 1; i < n; i++) z[i]! -= l[i]! * z[i - 1]!; // L z = x
    for (let i = 0; i < n; i++) z[i]! /= p[i]!; // D
    for (let i = n - 2; i >= 0; i--) z[i]! -= l[i + 1]! * z[i + 1]!; // Lᵀ
    const norm = Math.hypot(...z);
    x = norm > 0 && Number.isFinite(norm) ? z.map((v) => v / norm) : x;
  }
  return x;
}

/** Householder tridiagonalisation: on return d holds T's diagonal, e its off-diagonal, V the reflectors; returns their scales. */
function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): Float64Array {
  const at = (i: number, j: number) => j * n + i; // column-major: the inner loops run down columns
  for (let j = 0; j < n; j++) d[j] = V[at(n - 1, j)]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[at(i - 1, j)]!;
        V[at(i, j)] = 0;
        V[at(j, i)] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[at(j, i)] = f;
        g = e[j]! + V[at(j, j)]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[at(k, j)]! * d[k]!;
          e[k]! += V[at(k, j)]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[at(k, j)]! -= f * e[k]! + g * d[k]!;
        d[j] = V[at(i - 1, j)]!;
        V[at(i, j)] = 0;
      }
    }
    d[i] = h;
  }
  // Not accumulated into an explicit Q (half the work): column i + 1 of V keeps the reflector u_{i+1} in rows 0..i
  // and `h` its scale, so Q·y is applied reflector by reflector (applyQ). d becomes T's diagonal.
  const h = Float64Array.from(d);
  for (let j = 0; j < n; j++) d[j] = V[at(j, j)]!;
  e[0] = 0;
  return h;
}

/** y ← Q·y for tred2's Q = P_{n−1} ⋯ P_1, P_{i+1} = I − u uᵀ/h acting on rows 0..i (inner reflectors first). */
function applyQ(V: Float64Array, h: Float64Array, y: Float64Array, n: number): Float64Array {
  const v = Float64Array.from(y);
  for (let i = 0; i < n - 1; i++) {
    const hi = h[i + 1]!;
    if (hi === 0) continue;
    const col = (i + 1) * n; // column i + 1, column-major
    let g = 0;
    for (let k = 0; k <= i; k++) g += V[col + k]! * v[k]!;
    g /= hi;
    for (let k = 0; k <= i; k++) v[k]! -= g * V[col + k]!;
  }
  return v;
}

/** Implicit QL on the tridiagonal (d, e): its eigenvalues into d (unsorted). */
function tql1(d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; ; iter++) {
        if (iter > 60) throw new Error('topEigenpair: QL did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!(Math.abs(e[l]!) > eps * tst1)) break;
      }
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}
