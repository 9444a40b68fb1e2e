// CamContext over a detector's GraphModel: activations come from the frame's one forward pass; gradients run
// only the part of the graph after the fed layer (plus the skip tensors that layer does not cut).
import * as tf from '@tensorflow/tfjs-core';
import type { Detector } from '../model/detector.js';
import { addGradientProbes, frontier, PROBE_SUFFIX } from '../model/graph.js';
import { loadGraphModelFromFile, type LoadedGraph } from '../model/load.js';
import { HeadAdjoint } from './head-adjoint.js';
import type { CamContext } from './method.js';
import { batchedScore, type CamTarget } from './targets.js';

export type TargetBatching = 'batched' | 'sequential';

/**
 * 'fast': gradient sums from the head's transposed linear structure where the graph allows it (head-adjoint.ts;
 * exact); 'full': always the backward pass (kept for comparison and for layers the shortcut does not cover).
 */
export type GradientPath = 'fast' | 'full';

/** Most targets in one batched backward pass. */
export const MAX_BATCH = 8;

/** Per-detector graph facts computed once: frontiers and the probed twin model. */
export class DetectorGraph {
  private readonly frontiers = new Map<string, string[]>();
  private probed?: Promise<LoadedGraph>;
  private probedLayers = '';
  private readonly adjoints = new Map<string, HeadAdjoint | undefined>();

  constructor(
    readonly detector: Detector,
    readonly gradientPath: GradientPath = 'fast',
  ) {}

  /** The exact shortcut for XGrad-CAM / Grad-CAM sums at `layer`, when the fast path is on and the graph fits. */
  adjointOf(layer: string): HeadAdjoint | undefined {
    if (this.gradientPath !== 'fast') return undefined;
    if (!this.adjoints.has(layer)) {
      const d = this.detector;
      this.adjoints.set(layer, HeadAdjoint.find(d.graph.model, d.graph.nodes, d.scoreNodes, layer));
    }
    return this.adjoints.get(layer);
  }

  /** Every tensor the frame's forward pass must keep for gradients at `layer` (skip tensors, shortcut inputs). */
  gradientFetches(layer: string): string[] {
    return [...new Set([...this.frontierOf(layer), ...(this.adjointOf(layer)?.fetches() ?? [])])];
  }

  /** Skip tensors that must be fed beside `layer` to compute every score node. */
  frontierOf(layer: string): string[] {
    let f = this.frontiers.get(layer);
    if (!f) {
      const set = new Set<string>();
      for (const out of this.detector.scoreNodes) {
        for (const n of frontier(this.detector.graph.nodes, [layer], out, this.detector.inputName)) set.add(n);
      }
      f = [...set];
      this.frontiers.set(layer, f);
    }
    return f;
  }

  /** A second copy of the model with gradient probes after `layers` (all but the fed one; loaded once, on first use). */
  probedModel(layers: string[]): Promise<LoadedGraph> {
    const key = layers.join('|');
    if (!this.probed || this.probedLayers !== key) {
      const old = this.probed;
      void old?.then((g) => g.model.dispose());
      this.probedLayers = key;
      this.probed = loadGraphModelFromFile(this.detector.graph.path, (nodes) => addGradientProbes(nodes, layers));
    }
    return this.probed;
  }

  dispose(): void {
    void this.probed?.then((g) => g.model.dispose());
    this.probed = undefined;
    for (const a of this.adjoints.values()) a?.dispose();
    this.adjoints.clear();
  }
}

/** Repeat a batch-1 tensor K times along the batch axis (concat: WASM's Tile is very slow). */
function repeatBatch(t: tf.Tensor, k: number): tf.Tensor {
  return k === 1 ? tf.clone(t) : tf.concat(new Array<tf.Tensor>(k).fill(t), 0);
}

export class GraphCamContext implements CamContext {
  constructor(
    private readonly graph: DetectorGraph,
    readonly input: tf.Tensor4D,
    /** Tensors from the frame's forward pass, by node name (owned by the caller). */
    private readonly fetched: Map<string, tf.Tensor>,
    private readonly batching: TargetBatching,
    /** The probed twin, when multi-layer gradients are needed (see DetectorGraph.probedModel). */
    private readonly probed?: LoadedGraph,
  ) {}

  activation(layer: string): tf.Tensor4D {
    const t = this.fetched.get(layer);
    if (!t) throw new Error(`activation of ${layer} was not fetched`);
    return t as tf.Tensor4D;
  }

  gradientSums(layer: string, targets: CamTarget[], weighting: 'activation' | 'ones'): tf.Tensor2D | undefined {
    const adjoint = this.graph.adjointOf(layer);
    if (!adjoint || !targets.every((t) => t.cells) || !adjoint.fetches().every((n) => this.fetched.has(n))) return undefined;
    return adjoint.sums((name) => this.activation(name), targets, weighting);
  }

  gradients(layers: string[], targets: CamTarget[]): tf.Tensor4D[] {
    // Sequential: one backward per target. Batched: one per group of MAX_BATCH targets (the backward keeps
    // K copies of every intermediate, so an unbounded K could exhaust WASM's heap).
    const size = this.batching === 'sequential' ? 1 : MAX_BATCH;
    if (targets.length <= size) return this.gradientsBatched(layers, targets);
    const groups: tf.Tensor4D[][] = [];
    for (let i = 0; i < targets.length; i += size) groups.push(this.gradientsBatched(layers, targets.slice(i, i + size)));
    const out = layers.map((_, i) => tf.concat(groups.map((g) => g[i]!)) as tf.Tensor4D);
    tf.dispose(groups.flat());
    return out;
  }

  /** One backward pass for all targets: the fed tensors repeated K times, row k carrying target k. */
  private gradientsBatched(layers: string[], targets: CamTarget[]): tf.Tensor4D[] {
    const d = this.graph.detector;
    const k = targets.length;
    const [fed, ...probedLayers] = layers as [string, ...string[]];
    return tf.tidy(() => {
      const feeds: Record<string, tf.Tensor> = {};
      for (const name of this.graph.frontierOf(fed)) feeds[name] = repeatBatch(this.activation(name), k);
      const a = repeatBatch(this.activation(fed), k);
      const probes = probedLayers.map((l) => tf.zeros([k, ...this.activation(l).shape.slice(1)]));
      const model = probedLayers.length ? this.probed?.model : d.graph.model;
      if (!model) throw new Error('multi-layer gradients need the probed model');
      const f = (...xs: tf.Tensor[]) => {
        const all: Record<string, tf.Tensor> = { ...feeds, [fed]: xs[0]! };
        probedLayers.forEach((l, i) => (all[l + PROBE_SUFFIX] = xs[i + 1]!));
        const heads = model.execute(all, [...d.scoreNodes]);
        return batchedScore(Array.isArray(heads) ? heads : [heads], targets);
      };
      return tf.grads(f)([a, ...probes]) as tf.Tensor4D[];
    });
  }

  scoreInputs(inputs: tf.Tensor4D, targets: CamTarget[]): tf.Tensor2D {
    const d = this.graph.detector;
    return tf.tidy(() => {
      const raw = d.graph.model.execute({ [d.inputName]: inputs }, [...d.scoreNodes]);
      const heads = (Array.isArray(raw) ? raw : [raw]).map((h) => (d.scoreActivation === 'sigmoid' ? tf.sigmoid(h) : h));
      const n = inputs.shape[0];
      const rows: tf.Tensor1D[] = [];
      for (let b = 0; b < n; b++) {
        const row = heads.map((h) => tf.slice(h, b, 1));
        rows.push(tf.stack(targets.map((t) => t.score(row))) as tf.Tensor1D);
      }
      return tf.stack(rows) as tf.Tensor2D;
    });
  }
}
