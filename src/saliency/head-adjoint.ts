// Exact gradient sums for a CenterNet-style head without a backward pass.
//
// Why: XGrad-CAM and Grad-CAM need only Σ_ij W ⊙ ∂S/∂A per channel (W = A or 1), not the gradient map. A
// CenterNet class score is a few cells of `logits = 1×1(depthwise(R ⊙ gate(mean R)))`, so ∂S/∂R is a 3×3 patch
// per peak scaled by the gate, plus one constant per channel from the squeeze-excitation mean. Below R the head is
// linear up to a ReLU whose mask the forward pass already fixed (depthwise → 1×1 per branch → add → bilinear
// resize → concat). Depthwise convs and resizes act per channel, so Σ_ij W ⊙ (op^T g) = Σ_ij (op W) ⊙ g channel by
// channel: the sums come from tensors the forward pass computed, a gather at the peaks' patches, the gate's tiny
// backward, and one per-frame product for the mean's path. Same numbers as the full backward, up to float rounding.
//
// The pattern is read from the graph; a head or layer that does not match gets no adjoint (the full path runs).
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { inputNode, type GraphNode } from '../model/graph.js';
import type { CamTarget } from './targets.js';

export type SumWeighting = 'activation' | 'ones';

interface Branch {
  /** Depthwise conv on the layer (its output is fetched). */
  depthwise: string;
  depthwiseFilter: string;
  padding: 'same' | 'valid';
  /** 1×1 conv weights [1,1,C_layer,C_up]. */
  pointwise: string;
}

interface Neck {
  branches: Branch[];
  /** The ResizeBilinear node (its pre-ReLU output gives R's mask over the resized channels without a slice). */
  resizeNode: string;
  resize: { alignCorners: boolean; halfPixelCenters: boolean };
}

interface Head {
  score: string;
  /** R: the ReLU whose output is gated. */
  relu: string;
  mean: string;
  gate: string;
  gated: string;
  /** The score path's depthwise filter [k,k,C_R,1] (stride 1, SAME) and 1×1 weights [1,1,C_R,classes]. */
  clsDepthwise: string;
  clsPointwise: string;
}

function attrString(n: GraphNode, key: string): string | undefined {
  const s = n.attr?.[key]?.s as string | undefined;
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
}

function unitStrides(n: GraphNode): boolean {
  const list = (n.attr?.['strides']?.list?.i ?? ['1', '1', '1', '1']) as string[];
  const dil = (n.attr?.['dilations']?.list?.i ?? ['1', '1', '1', '1']) as string[];
  return list.every((v) => Number(v) === 1) && dil.every((v) => Number(v) === 1) && (attrString(n, 'data_format') ?? 'NHWC') === 'NHWC';
}

/** Follow an output through a split-off BiasAdd (graph-rewrite.ts) to the plain conv feeding it. */
function throughBias(byName: Map<string, GraphNode>, name: string): GraphNode | undefined {
  const n = byName.get(name);
  if (n?.op === 'BiasAdd') return byName.get(inputNode(n.input![0]!));
  return n;
}

function findHead(byName: Map<string, GraphNode>, score: string): Head | undefined {
  const conv = throughBias(byName, score);
  if (conv?.op !== 'Conv2D' || !unitStrides(conv)) return undefined;
  const dw = byName.get(inputNode(conv.input![0]!));
  if (dw?.op !== 'DepthwiseConv2dNative' || !unitStrides(dw) || attrString(dw, 'padding') !== 'SAME') return undefined;
  const gated = byName.get(inputNode(dw.input![0]!));
  if (gated?.op !== 'Mul') return undefined;
  const ins = gated.input!.map((r) => byName.get(inputNode(r)));
  const relu = ins.find((n) => n?.op === 'Relu');
  const gate = ins.find((n) => n?.op === 'Sigmoid');
  if (!relu || !gate) return undefined;
  // The gate must see R only through a spatial mean.
  let mean: GraphNode | undefined;
  const stack = [gate.name];
  const seen = new Set<string>();
  while (stack.length) {
    const n = byName.get(stack.pop()!);
    if (!n || seen.has(n.name)) continue;
    seen.add(n.name);
    if (n.name === relu.name) return undefined;
    if (n.op === 'Mean' && inputNode(n.input![0]!) === relu.name) {
      if (n.attr?.['keep_dims']?.b !== true) return undefined;
      mean = n;
      continue;
    }
    for (const r of n.input ?? []) if (!r.startsWith('^')) stack.push(inputNode(r));
  }
  if (!mean) return undefined;
  return {
    score,
    relu: relu.name,
    mean: mean.name,
    gate: gate.name,
    gated: gated.name,
    clsDepthwise: inputNode(dw.input![1]!),
    clsPointwise: inputNode(conv.input![1]!),
  };
}

/** layer → depthwise → 1×1 (→ bias) per branch → Add → ResizeBilinear → last input of the Concat under R. */
function findNeck(byName: Map<string, GraphNode>, head: Head, layer: string): Neck | undefined {
  const concat = byName.get(inputNode(byName.get(head.relu)!.input![0]!));
  if (concat?.op !== 'ConcatV2') return undefined;
  const parts = concat.input!.filter((r) => !r.startsWith('^'));
  const resize = byName.get(inputNode(parts[parts.length - 2]!)); // the last tensor input (the axis comes after)
  if (resize?.op !== 'ResizeBilinear') return undefined;
  const add = byName.get(inputNode(resize.input![0]!));
  if (add?.op !== 'Add' && add?.op !== 'AddV2' && add?.op !== 'AddN') return undefined;
  const branches: Branch[] = [];
  for (const ref of add.input!) {
    const conv = throughBias(byName, inputNode(ref));
    if (conv?.op !== 'Conv2D' || !unitStrides(conv)) return undefined;
    const dw = byName.get(inputNode(conv.input![0]!));
    if (dw?.op !== 'DepthwiseConv2dNative' || !unitStrides(dw) || inputNode(dw.input![0]!) !== layer) return undefined;
    const pad = attrString(dw, 'padding');
    if (pad !== 'SAME' && pad !== 'VALID') return undefined;
    branches.push({ depthwise: dw.name, depthwiseFilter: inputNode(dw.input![1]!), padding: pad === 'SAME' ? 'same' : 'valid', pointwise: inputNode(conv.input![1]!) });
  }
  return { branches, resizeNode: resize.name, resize: { alignCorners: resize.attr?.['align_corners']?.b === true, halfPixelCenters: resize.attr?.['half_pixel_centers']?.b === true } };
}

/** Nodes on any path from `layer` to `output` that consume `layer` directly. */
function directConsumersOnPath(nodes: GraphNode[], layer: string, output: string): string[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const anc = new Set<string>();
  const stack = [output];
  while (stack.length) {
    const n = stack.pop()!;
    if (anc.has(n)) continue;
    anc.add(n);
    for (const r of byName.get(n)?.input ?? []) stack.push(inputNode(r));
  }
  return nodes.filter((n) => anc.has(n.name) && (n.input ?? []).some((r) => !r.startsWith('^') && inputNode(r) === layer)).map((n) => n.name);
}

/** One axis of TF.js's bilinear resize: output index d reads `lo` with weight 1 − f and `hi` with weight f. */
function resizeAxis(alignCorners: boolean, halfPixelCenters: boolean, inSize: number, outSize: number) {
  const r = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  return (d: number) => {
    const src = halfPixelCenters ? r * (d + 0.5) - 0.5 : r * d;
    const lo = Math.max(0, Math.floor(src));
    return { lo, hi: Math.min(inSize - 1, Math.ceil(src)), f: src - lo };
  };
}

/**
 * The adjoint of ResizeBilinear ([1,H,W,C] → [1,h,w,C]), exact, as a few gathers per axis: WASM's
 * ResizeBilinearGrad kernel is a slow loop (about as long as the whole detector forward pass here). The integer
 * factors of CenterNet's neck take the strided conv of HeadAdjoint.maskTranspose instead.
 */
export function resizeBilinearTranspose(dy: tf.Tensor4D, [h, w]: [number, number], alignCorners: boolean, halfPixelCenters: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const along = (t: tf.Tensor4D, axis: 1 | 2, inSize: number): tf.Tensor4D => {
      const outSize = t.shape[axis];
      const tap = resizeAxis(alignCorners, halfPixelCenters, inSize, outSize);
      // For each input index, the output indices that read it and with what weight.
      const lists: [number, number][][] = Array.from({ length: inSize }, () => []);
      for (let d = 0; d < outSize; d++) {
        const { lo, hi, f } = tap(d);
        lists[lo]!.push([d, 1 - f]);
        if (f !== 0) lists[hi]!.push([d, f]);
      }
      const m = Math.max(...lists.map((l) => l.length));
      let out: tf.Tensor4D | undefined;
      for (let j = 0; j < m; j++) {
        const idx = lists.map((l) => l[j]?.[0] ?? 0);
        const wt = Float32Array.from(lists.map((l) => l[j]?.[1] ?? 0));
        const shape: [number, number, number, number] = axis === 1 ? [1, inSize, 1, 1] : [1, 1, inSize, 1];
        const part = tf.mul(tf.gather(t, tf.tensor1d(idx, 'int32'), axis), tf.tensor4d(wt, shape)) as tf.Tensor4D;
        out = out ? (tf.add(out, part) as tf.Tensor4D) : part;
      }
      return out!;
    };
    return along(along(dy, 1, h), 2, w);
  });
}

/** Source cells and weights of a bilinear resize at the given output cells (y·W + x), as TF.js computes them. */
export function bilinearTaps(
  cells: number[],
  [inH, inW]: [number, number],
  [outH, outW]: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): { idx: number[]; weight: Float32Array }[] {
  const ay = resizeAxis(alignCorners, halfPixelCenters, inH, outH);
  const ax = resizeAxis(alignCorners, halfPixelCenters, inW, outW);
  const taps = [0, 1, 2, 3].map(() => ({ idx: new Array<number>(cells.length), weight: new Float32Array(cells.length) }));
  cells.forEach((cell, i) => {
    const y = ay(Math.floor(cell / outW));
    const x = ax(cell % outW);
    const corners: [number, number, number][] = [
      [y.lo, x.lo, (1 - y.f) * (1 - x.f)],
      [y.lo, x.hi, (1 - y.f) * x.f],
      [y.hi, x.lo, y.f * (1 - x.f)],
      [y.hi, x.hi, y.f * x.f],
    ];
    corners.forEach(([yy, xx, w], t) => {
      taps[t]!.idx[i] = yy * inW + xx;
      taps[t]!.weight[i] = w;
    });
  });
  return taps;
}

/** Per-frame tensors an adjoint reads, by node name (owned by the caller). */
export type Fetched = (name: string) => tf.Tensor;

export class HeadAdjoint {
  private readonly onesCache = new Map<string, tf.Tensor>();

  private constructor(
    private readonly model: GraphModel,
    private readonly head: Head,
    readonly layer: string,
    /** How the layer reaches R: itself (`gated` or `relu`) or through the neck. */
    private readonly kind: 'gated' | 'relu' | 'neck',
    private readonly neck?: Neck,
  ) {}

  /** The adjoint for `layer` under the single score node `score`, or undefined when the graph does not match. */
  static find(model: GraphModel, nodes: GraphNode[], scoreNodes: readonly string[], layer: string): HeadAdjoint | undefined {
    if (scoreNodes.length !== 1) return undefined;
    const byName = new Map(nodes.map((n) => [n.name, n]));
    const head = findHead(byName, scoreNodes[0]!);
    if (!head) return undefined;
    const weights = model.weights;
    const needed = [head.clsDepthwise, head.clsPointwise];
    let found: HeadAdjoint | undefined;
    if (layer === head.gated) found = new HeadAdjoint(model, head, layer, 'gated');
    else if (layer === head.relu) found = new HeadAdjoint(model, head, layer, 'relu');
    else {
      const neck = findNeck(byName, head, layer);
      if (!neck) return undefined;
      // Every use of the layer on the way to the score must be one of the branches.
      const uses = directConsumersOnPath(nodes, layer, head.score);
      if (uses.length !== neck.branches.length || !neck.branches.every((b) => uses.includes(b.depthwise))) return undefined;
      needed.push(...neck.branches.flatMap((b) => [b.depthwiseFilter, b.pointwise]));
      found = new HeadAdjoint(model, head, layer, 'neck', neck);
    }
    return needed.every((w) => weights[w]?.[0]) ? found : undefined;
  }

  /** Nodes the frame's forward pass must fetch for `sums` (besides the layer itself). */
  fetches(): string[] {
    const h = this.head;
    return [h.relu, h.mean, h.gate, ...(this.neck ? [this.neck.resizeNode, ...this.neck.branches.map((b) => b.depthwise)] : [])];
  }

  private weight(name: string): tf.Tensor {
    return this.model.weights[name]![0]!;
  }

  /**
   * Σ_ij W_ijc ∂S_k/∂A_ijc for every target k and channel c of the layer: [K,C]. W is the layer's activation or
   * ones. Targets must carry their score cells (CamTarget.cells). Exact: no cell of the gradient is dropped.
   */
  sums(fetched: Fetched, targets: CamTarget[], weighting: SumWeighting): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.head;
      const R = fetched(h.relu) as tf.Tensor4D;
      const [, H, W, CR] = R.shape;
      const filt = this.weight(h.clsDepthwise) as tf.Tensor4D; // [kh,kw,CR,1]
      const [kh, kw] = filt.shape;
      const ph = Math.floor((kh - 1) / 2); // SAME, stride 1, odd or even kernel
      const pw = Math.floor((kw - 1) / 2);
      // One row per (target, peak, filter tap) whose cell lies inside the map: ∂S/∂gated there is
      // filter[tap] ⊙ pointwise[:, class] (the 1×1 conv's column for the peak's class).
      const cellIdx: number[] = [];
      const tapIdx: number[] = [];
      const classIdx: number[] = [];
      const owner: number[] = [];
      // Each row's coefficient in its target's sum (contrastive targets subtract a class: −1). The sums are
      // linear in the score, so weighting the rows is exact.
      const coef: number[] = [];
      targets.forEach((t, k) => {
        if (!t.cells) throw new Error('head adjoint needs targets with score cells');
        for (const [ci, [node, y, x, c]] of t.cells.entries()) {
          const w = t.cellWeights?.[ci] ?? 1;
          if (node !== 0 || y === undefined || x === undefined || c === undefined) throw new Error('head adjoint: unexpected score index');
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const yy = y + i - ph;
              const xx = x + j - pw;
              if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
              cellIdx.push(yy * W + xx);
              tapIdx.push(i * kw + j);
              classIdx.push(c);
              owner.push(k);
              coef.push(w);
            }
          }
        }
      });
      const n = cellIdx.length;
      const K = targets.length;
      const cells = tf.tensor1d(cellIdx, 'int32');
      const selData = new Float32Array(K * n);
      owner.forEach((k, i) => (selData[k * n + i] = coef[i]!));
      const sel = tf.tensor2d(selData, [K, n]); // sums each target's rows
      const taps = tf.reshape(filt, [kh * kw, CR]);
      const pwT = tf.transpose(tf.reshape(this.weight(h.clsPointwise), [CR, -1])); // [classes,CR]
      const u = tf.mul(tf.gather(taps, tf.tensor1d(tapIdx, 'int32')), tf.gather(pwT, tf.tensor1d(classIdx, 'int32'))) as tf.Tensor2D; // [n,CR]
      const weightAt = (t: tf.Tensor): tf.Tensor2D => tf.gather(tf.reshape(t, [-1, t.shape[3]!]), cells) as tf.Tensor2D;

      if (this.kind === 'gated') {
        const Wc = weighting === 'activation' ? weightAt(fetched(h.gated)) : tf.ones([n, CR]);
        return n ? (tf.matMul(sel, tf.mul(Wc, u)) as tf.Tensor2D) : tf.zeros([K, CR]);
      }

      // ∂S/∂R = gate ⊙ u (local) + g/(H·W) everywhere, g = ∂S/∂mean through the gate's own small backward.
      const s = tf.reshape(fetched(h.gate), [1, CR]);
      const Rcells = weightAt(R);
      const dGate: tf.Tensor2D = n ? (tf.matMul(sel, tf.mul(u, Rcells)) as tf.Tensor2D) : tf.zeros([K, CR]);
      const g = this.meanGradient(fetched(h.mean) as tf.Tensor4D, dGate); // [K,CR]
      const local = tf.mul(u, s); // [n,CR]

      if (this.kind === 'relu') {
        const Wc = weighting === 'activation' ? Rcells : tf.ones([n, CR]);
        const Wsum = weighting === 'activation' ? tf.reshape(tf.sum(R, [1, 2]), [1, CR]) : tf.fill([1, CR], H * W);
        const loc = n ? tf.matMul(sel, tf.mul(Wc, local)) : tf.zeros([K, CR]);
        return tf.add(loc, tf.mul(g, tf.div(Wsum, H * W))) as tf.Tensor2D;
      }

      // Through the neck: only R's last C_up channels (the resized branch sum) depend on the layer; the ReLU
      // mask of those channels gates both parts. For branch b with E_b = depthwise_b(W) and F_b = resize(E_b):
      //   Σ_ij W ⊙ ∂S/∂A = Σ_b Σ_o P_b[c,o] (Σ_cells F_b ⊙ Y_o  +  g_o/(H·W) · Σ_IJ F_b,IJc M_IJo),
      // Y = M ⊙ local. The second sum is Σ_ij E_b ⊙ resize^T(M), computed at the layer's resolution.
      const neck = this.neck!;
      const P0 = this.weight(neck.branches[0]!.pointwise);
      const Cup = P0.shape[3]!;
      const off = CR - Cup;
      // R's last C_up channels are ReLU(resize output), so the fetched resize output gives their mask (a channel
      // slice of R is a slow JavaScript loop on WASM).
      const up = fetched(neck.resizeNode) as tf.Tensor4D; // [1,H,W,Cup]
      const maskCells = n ? tf.cast(tf.greater(weightAt(up), 0), 'float32') : tf.zeros([0, Cup]);
      const Y = tf.mul(maskCells, tf.slice(local, [0, off], [n, Cup])); // [n,Cup]
      const gUp = tf.div(tf.slice(g, [0, off], [K, Cup]), H * W); // [K,Cup]
      const A = fetched(this.layer) as tf.Tensor4D;
      const [, h0, w0, C] = A.shape;
      const { alignCorners, halfPixelCenters } = neck.resize;
      // resize^T(M), transposed once ([Cup, h0·w0]) so that each branch's Σ_ij E_b ⊙ Z is a plain matmul (no
      // transpose of E per branch; WASM's transposeA matmul is slower still).
      const ZT = tf.transpose(tf.reshape(this.maskTranspose(up, [h0, w0]), [h0 * w0, Cup])) as tf.Tensor2D;
      // resize(E) at the rows' cells only: the four-neighbour blend TF.js's ResizeBilinear computes there, as one
      // gather of all taps' rows, each tap's weight folded into the per-target selection.
      const taps4 = bilinearTaps(cellIdx, [h0, w0], [H, W], alignCorners, halfPixelCenters);
      const tapRows = tf.tensor1d(taps4.flatMap((t) => t.idx), 'int32'); // [4n]
      const sel4Data = new Float32Array(K * 4 * n);
      taps4.forEach(({ weight }, t) => owner.forEach((k, i) => (sel4Data[k * 4 * n + t * n + i] = weight[i]! * coef[i]!)));
      const sel4 = tf.tensor2d(sel4Data, [K, 4 * n]);
      let total: tf.Tensor2D = tf.zeros([K, C]);
      for (const b of neck.branches) {
        const E = tf.reshape(weighting === 'activation' ? fetched(b.depthwise) : this.depthwiseOfOnes(b, A.shape), [h0 * w0, C]) as tf.Tensor2D;
        const P = tf.reshape(this.weight(b.pointwise), [C, Cup]) as tf.Tensor2D;
        const QT = tf.matMul(ZT, E); // [Cup,C]
        const glob = tf.matMul(gUp, tf.mul(tf.transpose(P), QT)); // [K,C]
        total = tf.add(total, glob);
        if (n) {
          const V = tf.matMul(Y, P, false, true); // [n,C]
          const Etaps = tf.reshape(tf.gather(E, tapRows), [4, n, C]);
          total = tf.add(total, tf.matMul(sel4, tf.reshape(tf.mul(Etaps, V), [4 * n, C])));
        }
      }
      return total;
    });
  }

  /**
   * resize^T(M) for the ReLU mask M = (up > 0) of the resized channels, [1,h0,w0,Cup]. For an integer factor s
   * (no corner alignment, no half-pixel centres) it is one strided depthwise conv: output i gathers inputs
   * s·i + q with weight 1 − q/s and s·(i − 1) + q with weight q/s; the last block's clamped taps (weight 1
   * in all) are restored by scaling those input rows before the conv. Exact, and a fast kernel on every backend.
   */
  private maskTranspose(up: tf.Tensor4D, [h0, w0]: [number, number]): tf.Tensor4D {
    const [, H, W, Cup] = up.shape;
    const { alignCorners, halfPixelCenters } = this.neck!.resize;
    const mask = tf.cast(tf.greater(up, 0), 'float32') as tf.Tensor4D;
    if (alignCorners || halfPixelCenters || H % h0 || W % w0) return resizeBilinearTranspose(mask, [h0, w0], alignCorners, halfPixelCenters);
    const [sh, sw] = [H / h0, W / w0];
    const { filter, edge } = this.upsampleAdjoint(sh, sw, H, W, Cup);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [sh - 1, 0], [sw - 1, 0], [0, 0]];
    return tf.depthwiseConv2d(tf.mul(mask, edge) as tf.Tensor4D, filter, [sh, sw], pad);
  }

  /** The conv's filter [2s−1, 2s−1, Cup, 1] and the edge scaling [1,H,W,1] (constant per shape, kept across frames). */
  private upsampleAdjoint(sh: number, sw: number, H: number, W: number, Cup: number): { filter: tf.Tensor4D; edge: tf.Tensor4D } {
    const key = `upsample:${sh}x${sw}:${H}x${W}x${Cup}`;
    const hit = this.onesCache.get(key + ':f');
    if (hit) return { filter: hit as tf.Tensor4D, edge: this.onesCache.get(key + ':e') as tf.Tensor4D };
    // Window position p covers input s·(i − 1) + 1 + p.
    const taps = (s: number) => Array.from({ length: 2 * s - 1 }, (_, p) => (p < s - 1 ? (p + 1) / s : 1 - (p - s + 1) / s));
    const scale = (s: number, n: number) => Array.from({ length: n }, (_, d) => (d > n - s ? s / (s - (d - (n - s))) : 1));
    const [th, tw, eh, ew] = [taps(sh), taps(sw), scale(sh, H), scale(sw, W)];
    const filter = tf.keep(
      tf.tidy(() => tf.tile(tf.reshape(tf.outerProduct(tf.tensor1d(th), tf.tensor1d(tw)), [th.length, tw.length, 1, 1]), [1, 1, Cup, 1])),
    ) as tf.Tensor4D;
    const edge = tf.keep(tf.tidy(() => tf.reshape(tf.outerProduct(tf.tensor1d(eh), tf.tensor1d(ew)), [1, H, W, 1]))) as tf.Tensor4D;
    this.onesCache.set(key + ':f', filter);
    this.onesCache.set(key + ':e', edge);
    return { filter, edge };
  }

  /** ∂S_k/∂mean for each row of dGate [K,CR]: the gate's backward from its fed mean (a few 1×1 convs). */
  private meanGradient(mean: tf.Tensor4D, dGate: tf.Tensor2D): tf.Tensor2D {
    const K = dGate.shape[0];
    const CR = mean.shape[3];
    const mK = K === 1 ? mean : tf.concat(new Array<tf.Tensor>(K).fill(mean));
    const f = (m: tf.Tensor) => this.model.execute({ [this.head.mean]: m }, this.head.gate) as tf.Tensor;
    const dm = tf.grad(f)(mK, tf.reshape(dGate, [K, 1, 1, CR]));
    return tf.reshape(dm, [K, CR]);
  }

  /** depthwise_b(ones) at the layer's shape: constant per model, kept across frames. */
  private depthwiseOfOnes(b: Branch, shape: number[]): tf.Tensor {
    const key = `${b.depthwise}:${shape.join('x')}`;
    let t = this.onesCache.get(key);
    if (!t) {
      t = tf.keep(tf.tidy(() => tf.depthwiseConv2d(tf.ones([1, shape[1]!, shape[2]!, shape[3]!]) as tf.Tensor4D, this.weight(b.depthwiseFilter) as tf.Tensor4D, 1, b.padding)));
      this.onesCache.set(key, t);
    }
    return t;
  }

  dispose(): void {
    for (const t of this.onesCache.values()) t.dispose();
    this.onesCache.clear();
  }
}
