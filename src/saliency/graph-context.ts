// CamContext over a detector's GraphModel: activations come from the frame's one forward pass; gradients run
// only the part of the graph after the fed layer (plus the skip tensors that layer does not cut).
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import type { Detector, GradientShortcut, SumWeighting } from '../model/detector.js';
import { registerMissingGradients } from '../model/gradients.js';
import { addGradientProbes, PROBE_SUFFIX } from '../model/graph.js';
import { descendants, frontier } from '../model/graph-walk.js';
import { loadGraphModelFromFile, type LoadedGraph } from '../model/load.js';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { sumsOfGradients, type CamContext } from './method.js';
import { batchedScore, targetScore, type CamTarget } from './targets.js';

registerMissingGradients();

export type TargetBatching = 'batched' | 'sequential';

/**
 * 'fast': gradient sums from the detector's shortcut where it offers one (Detector.gradientShortcut; exact);
 * 'full': always the backward pass (kept for comparison: scripts/exactness.mjs).
 */
export type GradientPath = 'fast' | 'full';

/** How a DetectorGraph's gradients were computed, counted: a test proves the shortcut ran by reading these. */
export interface GradientCounts {
  /** Gradient sums from the detector's shortcut (one per call, all targets at once). */
  shortcut: number;
  /** Backward passes (one per group of targets batched together). */
  backward: number;
}

/** Most targets in one batched backward pass. */
export const MAX_BATCH = 8;

/** Per-detector graph facts computed once: frontiers, gradient shortcuts and the probed twin model. */
export class DetectorGraph {
  private readonly frontiers = new Map<string, string[]>();
  private probed?: Promise<LoadedGraph>;
  private probedLayers = '';
  private readonly shortcuts = new Map<string, GradientShortcut | undefined>();
  readonly counts: GradientCounts = { shortcut: 0, backward: 0 };

  constructor(
    readonly detector: Detector,
    readonly gradientPath: GradientPath = 'fast',
  ) {}

  /** The detector's gradient-sum shortcut at `layer`, when the fast path is on and the adapter offers one. */
  shortcutOf(layer: string): GradientShortcut | undefined {
    if (this.gradientPath !== 'fast') return undefined;
    if (!this.shortcuts.has(layer)) this.shortcuts.set(layer, this.detector.gradientShortcut?.(layer));
    return this.shortcuts.get(layer);
  }

  /** Every tensor the frame's forward pass must keep for gradients at `layer` (skip tensors, shortcut inputs). */
  gradientFetches(layer: string): string[] {
    return [...new Set([...this.frontierOf(layer), ...(this.shortcutOf(layer)?.fetches ?? [])])];
  }

  /** Skip tensors that must be fed beside `layer` to compute every score node. */
  frontierOf(layer: string): string[] {
    let f = this.frontiers.get(layer);
    if (!f) {
      const set = new Set<string>();
      for (const out of this.detector.scoreNodes) {
        for (const n of frontier(this.detector.graph.index, [layer], out)) set.add(n);
      }
      f = [...set];
      this.frontiers.set(layer, f);
    }
    return f;
  }

  /**
   * The layer to feed for multi-layer gradients: the one every other layer is downstream of (CenterNet's first
   * PolyCAM layer; YOLO's stride-8 neck output, which is its last, as the PAN path runs from it to P4 and P5).
   */
  feedLayer(layers: string[]): string {
    if (layers.length < 2) return layers[0]!;
    const key = layers.join('|');
    let fed = this.feeds.get(key);
    if (!fed) this.feeds.set(key, (fed = this.findFeedLayer(layers)));
    return fed;
  }

  private readonly feeds = new Map<string, string>();

  private findFeedLayer(layers: string[]): string {
    for (const candidate of layers) {
      const down = descendants(this.detector.graph.index, [candidate]);
      if (layers.every((l) => down.has(l))) return candidate;
    }
    return layers[0]!;
  }

  /** A second copy of the model with gradient probes after `layers` (all but the fed one; loaded once, on first use). */
  probedModel(layers: string[]): Promise<LoadedGraph> {
    const key = layers.join('|');
    if (!this.probed || this.probedLayers !== key) {
      const old = this.probed;
      void old?.then((g) => g.model.dispose());
      this.probedLayers = key;
      this.probed = loadGraphModelFromFile(this.detector.graph.path, (nodes) => addGradientProbes(nodes, layers)).then((g) => {
        // The twin is loaded from the file: it gets the weight edits the model had (the sanity check's randomisation).
        for (const edit of this.weightEdits) edit(g.model);
        return g;
      });
    }
    return this.probed;
  }

  private readonly weightEdits: ((model: GraphModel) => void)[] = [];

  /**
   * Changes the model's weights, and those of every copy loaded after (the probed twin): multi-layer gradients
   * must come from the same weights as the forward pass. Cached gradient shortcuts are dropped.
   */
  editWeights(edit: (model: GraphModel) => void): void {
    this.weightEdits.push(edit);
    edit(this.detector.graph.model);
    // A twin already loaded is dropped: the next one loads with every edit.
    void this.probed?.then((g) => g.model.dispose());
    this.probed = undefined;
    for (const a of this.shortcuts.values()) a?.dispose();
    this.shortcuts.clear();
  }

  dispose(): void {
    void this.probed?.then((g) => g.model.dispose());
    this.probed = undefined;
    for (const a of this.shortcuts.values()) a?.dispose();
    this.shortcuts.clear();
  }
}

/** Repeat a batch-1 tensor K times along the batch axis (concat: WASM's Tile is very slow). */
function repeatBatch(t: tf.Tensor, k: number): tf.Tensor {
  return k === 1 ? tf.clone(t) : tf.concat(new Array<tf.Tensor>(k).fill(t), 0);
}

/**
 * Gradients several methods of one frame share: for `targets` (the same list, by identity), any request for
 * layers among `layers` is answered from one backward pass over all of them (e.g. Grad-CAM++ at the CAM layer
 * from XPolyCAM's pass over the PolyCAM layers, which contain it).
 */
export interface SharedGradients {
  layers: string[];
  targets: readonly CamTarget[];
}

/** The union of several methods' gradient layers when one of them contains all the others (else none to share). */
export function sharedLayers(layerLists: readonly string[][]): string[] | undefined {
  const widest = [...layerLists].sort((a, b) => b.length - a.length)[0];
  return widest && layerLists.every((l) => l.every((x) => widest.includes(x))) ? widest : undefined;
}

export class GraphCamContext implements CamContext {
  /** Gradients computed so far, per target list: kept until `dispose` (callers get clones). */
  private readonly memo: { targets: readonly CamTarget[]; layers: string[]; grads: tf.Tensor4D[] }[] = [];

  constructor(
    private readonly graph: DetectorGraph,
    readonly input: tf.Tensor4D,
    /** Tensors from the frame's forward pass, by node name (owned by the caller). */
    private readonly fetched: Map<string, tf.Tensor>,
    private readonly batching: TargetBatching,
    /** The probed twin, when multi-layer gradients are needed (see DetectorGraph.probedModel). */
    private readonly probed?: LoadedGraph,
    private readonly shared?: SharedGradients,
  ) {}

  /** Frees the memoised gradients. */
  dispose(): void {
    for (const m of this.memo.splice(0)) tf.dispose(m.grads);
  }

  activation(layer: string): tf.Tensor4D {
    const t = this.fetched.get(layer);
    if (!t) throw new Error(`activation of ${layer} was not fetched`);
    return t as tf.Tensor4D;
  }

  gradientSums(layer: string, targets: CamTarget[], weighting: SumWeighting): tf.Tensor2D {
    const shortcut = this.graph.shortcutOf(layer);
    if (shortcut) {
      this.graph.counts.shortcut++;
      // `activation` throws for a tensor the forward pass did not fetch: never a silent fall-back.
      return shortcut.sums((name) => this.activation(name), targets, weighting);
    }
    return tf.tidy(() => {
      const [G] = this.gradients([layer], targets);
      return sumsOfGradients(this.activation(layer), G!, weighting);
    });
  }

  gradients(layers: string[], targets: CamTarget[]): tf.Tensor4D[] {
    let hit = this.memo.find((m) => m.targets === targets && layers.every((l) => m.layers.includes(l)));
    if (!hit) {
      // Layers another method of the frame will ask for too: all of them from this one backward pass.
      const s = this.shared;
      const all = s && s.targets === targets && layers.every((l) => s.layers.includes(l)) ? s.layers : layers;
      hit = { targets, layers: all, grads: this.computeGradients(all, targets) };
      hit.grads.forEach((g) => tf.keep(g));
      this.memo.push(hit);
    }
    const { layers: have, grads } = hit;
    return layers.map((l) => tf.clone(grads[have.indexOf(l)]!));
  }

  private computeGradients(layers: string[], targets: CamTarget[]): tf.Tensor4D[] {
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
    const fed = this.graph.feedLayer(layers);
    const probedLayers = layers.filter((l) => l !== fed);
    this.graph.counts.backward++;
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
      const [gFed, ...gProbes] = tf.grads(f)([a, ...probes]) as tf.Tensor4D[];
      // Back in the order asked for.
      return layers.map((l) => (l === fed ? gFed! : gProbes[probedLayers.indexOf(l)]!));
    });
  }

  classWeights(layer: string, targets: CamTarget[]): tf.Tensor2D {
    const cw = this.graph.detector.camWeights;
    if (!cw) throw new UserError(`--method cam needs a classifier ending in global average pooling + dense; model ${this.graph.detector.name} has none (use xgradcam)`);
    if (layer !== cw.layer) throw new UserError(`--method cam works at the layer the dense layer pools (${cw.layer}), not ${layer}`);
    const kernel = this.graph.detector.graph.model.weights[cw.weights]?.[0];
    if (!kernel) throw new Error(`dense weights ${cw.weights} not found in the model`);
    return tf.tidy(() => {
      const kc = (cw.transposed ? kernel : tf.transpose(kernel)) as tf.Tensor2D; // [K_all, C]
      return tf.gather(kc, targets.map((t) => t.classId)) as tf.Tensor2D;
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
        rows.push(tf.stack(targets.map((t) => targetScore(t, row))) as tf.Tensor1D);
      }
      return tf.stack(rows) as tf.Tensor2D;
    });
  }
}
