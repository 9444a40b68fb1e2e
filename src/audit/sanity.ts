// The model-parameter randomisation test (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"; per class for
// detectors as in Padmanabhan et al. 2023): the layers between the CAM layer and the output are re-initialised
// one after the other, from the output back to the CAM layer (cascading), and each method's maps of the same
// detections are recomputed. A method whose maps stay the same when the model they explain has changed does not
// explain that model: it fails. Similarity is the Spearman rank correlation of the map values.
import { inputNode, type GraphNode } from '../model/graph.js';
import { pearson } from './correlation.js';

/** Spearman rank correlation (average ranks for ties); NaN when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error('spearman: lengths differ');
  return pearson(ranks(a), ranks(b));
}

function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((x, y) => v[x]! - v[y]!);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
    for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

function constant(v: Float32Array): boolean {
  return v.every((x) => x === v[0]);
}

/** Ops whose Const inputs are learned weights. */
const WEIGHT_OPS = new Set(['Conv2D', 'DepthwiseConv2dNative', 'BiasAdd', 'MatMul', '_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul', 'Conv2DBackpropInput', 'FusedBatchNorm', 'FusedBatchNormV3']);

/**
 * The weighted layers strictly between `layer` and `output`, ordered from the output back (the cascade's order):
 * each with the names of its weight tensors (its Const inputs).
 */
export function layersAfter(nodes: readonly GraphNode[], layer: string, output: string): { name: string; weights: string[] }[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const cons = new Map<string, string[]>();
  for (const n of nodes) for (const ref of n.input ?? []) cons.set(inputNode(ref), [...(cons.get(inputNode(ref)) ?? []), n.name]);
  const downstream = new Set<string>();
  for (const stack = [layer]; stack.length; ) {
    const n = stack.pop()!;
    for (const c of cons.get(n) ?? []) if (!downstream.has(c)) (downstream.add(c), stack.push(c));
  }
  // Distance from the output, backwards through inputs, inside the part downstream of the layer.
  const depth = new Map<string, number>([[output, 0]]);
  for (let queue = [output]; queue.length; ) {
    const next: string[] = [];
    for (const n of queue) {
      for (const ref of byName.get(n)?.input ?? []) {
        const src = inputNode(ref);
        if (!downstream.has(src) || depth.has(src)) continue;
        depth.set(src, depth.get(n)! + 1);
        next.push(src);
      }
    }
    queue = next;
  }
  return [...depth.entries()]
    .filter(([n]) => WEIGHT_OPS.has(byName.get(n)?.op ?? ''))
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .map(([n]) => ({ name: n, weights: (byName.get(n)!.input ?? []).map(inputNode).filter((i) => byName.get(i)?.op === 'Const') }))
    .filter((l) => l.weights.length > 0);
}

/** One detection's maps per method (undefined: none), as `mapsAt` returns them. */
export type MapsByMethod = Record<string, (Float32Array | undefined)[]>;

export interface SanityTarget {
  label: string;
}

export interface SanityMethodResult {
  /** Detections compared (maps that were not constant on the original model). */
  detections: number;
  /** Mean Spearman similarity over the detections with every layer randomised (the cascade's end). */
  similarity: number;
  /** Per class, at the cascade's end. */
  perClass: Record<string, number>;
  /** Mean similarity after each step of the cascade (layers randomised from the output back). */
  perLayer: { layer: string; similarity: number }[];
  /** Maps that did not change enough: similarity above the pass threshold at the cascade's end. */
  passed: boolean;
}

export interface SanityResult {
  /** The layers randomised, output first. */
  layers: string[];
  detections: number;
  /** A method passes when its similarity with every layer randomised falls below this. */
  threshold: number;
  methods: Record<string, SanityMethodResult>;
}

/**
 * The cascade: `mapsAt(k)` returns the maps of the same detections with the first k layers of `layers`
 * randomised (k = 0: the original model). Similarity of each randomised map to the original one.
 */
export async function sanityCascade(
  layers: readonly string[],
  targets: readonly SanityTarget[],
  mapsAt: (k: number) => Promise<MapsByMethod>,
  threshold = 0.5,
): Promise<SanityResult> {
  const original = await mapsAt(0);
  const methods = Object.keys(original);
  const perStep: Record<string, number[][]> = Object.fromEntries(methods.map((m) => [m, []]));
  for (let k = 1; k <= layers.length; k++) {
    const maps = await mapsAt(k);
    for (const m of methods) {
      perStep[m]!.push(targets.map((_, i) => {
        const a = original[m]?.[i];
        const b = maps[m]?.[i];
        if (!a || constant(a)) return NaN; // nothing to compare with
        // A map gone or flattened under randomisation has lost everything it showed.
        return b && !constant(b) ? spearman(a, b) : 0;
      }));
    }
  }
  const mean = (v: number[]): number => {
    const f = v.filter(Number.isFinite);
    return f.length ? f.reduce((x, y) => x + y, 0) / f.length : NaN;
  };
  const out: SanityResult = { layers: [...layers], detections: targets.length, threshold, methods: {} };
  for (const m of methods) {
    const last = perStep[m]!.at(-1) ?? [];
    const labels = [...new Set(targets.map((t) => t.label))].sort();
    const similarity = mean(last);
    out.methods[m] = {
      detections: last.filter(Number.isFinite).length,
      similarity,
      perClass: Object.fromEntries(labels.map((l) => [l, mean(last.filter((_, i) => targets[i]!.label === l))])),
      perLayer: perStep[m]!.map((v, k) => ({ layer: layers[k]!, similarity: mean(v) })),
      passed: Number.isFinite(similarity) && similarity < threshold,
    };
  }
  return out;
}
