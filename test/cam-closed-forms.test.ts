// The CAM methods against their closed forms on a seeded GAP classifier, computed here in plain JavaScript (float64)
// from the model's own weights and the input pixels, and compared with the raw maps the library API returns.
//
// For logits y_k = Σ_c W_ck · mean_ij A_c,ij + b_k over N = h·w cells, ∂y_k/∂A_c,ij = g_kc = W_ck / N everywhere, so:
//   Grad-CAM   w_kc = g_kc
//   XGrad-CAM  w_kc = Σ_ij A·g / (Σ_ij A + 1e-7) = g_kc · S_c / (S_c + 1e-7)          (S_c = Σ_ij A_c,ij)
//   Grad-CAM++ w_kc = Σ_ij α · ReLU(g) = N · ReLU(g_kc) · g² / (2g² + S_c g³)          (no eps: the exact form)
//   CAM        w_kc = W_ck
// and each map is ReLU(Σ_c w_kc · A_c).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createExplainer, type Explainer } from '../src/index.js';
import { useTmpDir } from './helpers/clips.js';
import { seededRandom, writeSeededClassifier, type SeededClassifier } from './helpers/toy-models.js';

const tmp = useTmpDir('cam-closed-');
let net: SeededClassifier;
let rgb: Uint8Array;

beforeAll(async () => {
  net = await writeSeededClassifier(join(tmp.dir, 'seeded'), 20261207);
  const rnd = seededRandom(7);
  rgb = Uint8Array.from({ length: net.size * net.size * 3 }, () => Math.floor(rnd() * 256));
});

/** A [h·w][C] from the pixels and the conv's weights: 3×3, SAME (zero) padding, + bias, ReLU. */
function activations(): number[][] {
  const { size: S, channels: C, filter, convBias } = net;
  const A: number[][] = [];
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const a = convBias.slice();
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const yy = y + i - 1;
          const xx = x + j - 1;
          if (yy < 0 || yy >= S || xx < 0 || xx >= S) continue;
          for (let ci = 0; ci < 3; ci++) {
            const v = rgb[(yy * S + xx) * 3 + ci]! / 255;
            for (let c = 0; c < C; c++) a[c]! += v * filter[((i * 3 + j) * 3 + ci) * C + c]!;
          }
        }
      }
      A.push(a.map((v) => Math.max(0, v)));
    }
  }
  return A;
}

type Method = 'gradcam' | 'xgradcam' | 'gradcam++' | 'cam';

function closedForm(method: Method, k: number): Float64Array {
  const { channels: C, classes: K, dense } = net;
  const A = activations();
  const N = A.length;
  const weights = Array.from({ length: C }, (_, c) => {
    const W = dense[c * K + k]!;
    const g = W / N;
    const Sc = A.reduce((s, a) => s + a[c]!, 0);
    if (method === 'cam') return W;
    if (method === 'gradcam') return g;
    if (method === 'xgradcam') return (g * Sc) / (Sc + 1e-7);
    const denom = 2 * g * g + Sc * g ** 3;
    return g > 0 && denom !== 0 ? (N * g * g * g) / denom : 0;
  });
  return Float64Array.from(A, (a) => Math.max(0, a.reduce((s, v, c) => s + v * weights[c]!, 0)));
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i]!), (mb += b[i]!);
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const METHODS: Method[] = ['xgradcam', 'gradcam', 'gradcam++', 'cam'];

describe('CAM methods equal their closed forms on a seeded GAP classifier (raw maps, through the library API)', () => {
  it('the reference maps are not degenerate: each has zero and positive cells, and the classes and methods differ', () => {
    const refs = METHODS.flatMap((m) => Array.from({ length: net.classes }, (_, k) => closedForm(m, k)));
    for (const r of refs) expect(r.filter((v) => v > 0).length).toBeGreaterThan(r.length * 0.1);
    // The ReLUs matter: many maps have cells clipped to zero.
    expect(refs.filter((r) => r.some((v) => v === 0)).length).toBeGreaterThanOrEqual(refs.length / 4);
    // Classes differ, and Grad-CAM++ reweighs the channels (not a rescaled Grad-CAM).
    expect(pearson(closedForm('gradcam', 0), closedForm('gradcam', 1))).toBeLessThan(0.9);
    expect(Math.min(...Array.from({ length: net.classes }, (_, k) => pearson(closedForm('gradcam', k), closedForm('gradcam++', k))))).toBeLessThan(0.999);
  });

  for (const gradients of ['fast', 'full'] as const) {
    it(`XGrad-CAM, Grad-CAM, Grad-CAM++ and CAM match (gradients: ${gradients})`, async () => {
      const explainer: Explainer = await createExplainer({ model: net.path, backend: 'wasm', gradients });
      try {
        const classes = explainer.classNames.slice(0, net.classes);
        expect(classes).toHaveLength(net.classes);
        for (const method of METHODS) {
          const { record, maps } = await explainer.explain({ rgb, width: net.size, height: net.size }, { method, classes: [...classes] });
          expect(record.method).toBe(method);
          expect(maps.map((m) => m.classId).sort()).toEqual([0, 1, 2, 3]);
          for (const m of maps) {
            expect([m.width, m.height]).toEqual([net.size, net.size]);
            const ref = closedForm(method, m.classId);
            const scale = Math.max(...ref);
            let maxDiff = 0;
            for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(m.raw[i]! - ref[i]!));
            expect(maxDiff / scale, `${method} class ${m.classId}`).toBeLessThan(2e-6);
            expect(pearson(m.raw, ref)).toBeGreaterThan(0.999999);
            // `values` are `raw` min-max normalised.
            const lo = Math.min(...m.raw);
            const hi = Math.max(...m.raw);
            for (let i = 0; i < ref.length; i += 7) expect(m.values[i]).toBeCloseTo((m.raw[i]! - lo) / (hi - lo), 6);
          }
        }
      } finally {
        explainer.dispose();
      }
    });
  }
});
