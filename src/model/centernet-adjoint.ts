// CenterNet's gradient shortcut (Detector.gradientShortcut): exact gradient sums without a backward pass.
//
// Why: XGrad-CAM and Grad-CAM need only Σ_ij W ⊙ ∂S/∂A per channel (W = A or 1), not the gradient map. A
// CenterNet class score is a few cells of `logits = 1×1(depthwise(R ⊙ gate(mean R)))`, so ∂S/∂R is a 3×3 patch
// per peak scaled by the gate, plus one constant per channel from the squeeze-excitation mean. Below R the head is
// linear up to a ReLU whose mask the forward pass already fixed (depthwise → 1×1 per branch → add → bilinear
// resize → concat). Depthwise convs and resizes act per channel, so Σ_ij W ⊙ (op^T g) = Σ_ij (op W) ⊙ g channel by
// channel: the sums come from tensors the forward pass computed, a gather at the peaks' patches, the gate's tiny
// backward, and one per-frame product for the mean's path. Same numbers as the full backward, up to float rounding.
//
// The pattern is read from the graph (centernet-head.ts); a head or layer that does not match gets no shortcut
// (the full backward pass runs). Targets' cells are this adapter's own score indices, [0, y, x, class].
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { findHead, findNeck, type Branch, type Head, type Neck } from './centernet-head.js';
import type { GradientShortcut, ScoreCells, SumWeighting } from './detector.js';
import type { LoadedGraph } from './load.js';
import { bilinearTaps, resizeBilinearTranspose } from './resize-adjoint.js';

/** Per-frame tensors an adjoint reads, by node name (owned by the caller). */
type Fetched = (name: string) => tf.Tensor;

export class HeadAdjoint implements GradientShortcut {
  private readonly onesCache = new Map<string, tf.Tensor>();

  private constructor(
    private readonly model: GraphModel,
    private readonly head: Head,
    readonly layer: string,
    /** How the layer reaches R: itself (`gated` or `relu`) or through the neck. */
    private readonly kind: 'gated' | 'relu' | 'neck',
    private readonly neck?: Neck,
  ) {}

  /** The shortcut for `layer` under the score node `score`, or undefined when the graph does not match. */
  static find(graph: LoadedGraph, score: string, layer: string): HeadAdjoint | undefined {
    const g = graph.index;
    const head = findHead(g, score);
    if (!head) return undefined;
    const needed = [head.clsDepthwise, head.clsPointwise];
    let found: HeadAdjoint | undefined;
    if (layer === head.gated) found = new HeadAdjoint(graph.model, head, layer, 'gated');
    else if (layer === head.relu) found = new HeadAdjoint(graph.model, head, layer, 'relu');
    else {
      const neck = findNeck(g, head, layer);
      if (!neck) return undefined;
      needed.push(...neck.branches.flatMap((b) => [b.depthwiseFilter, b.pointwise]));
      found = new HeadAdjoint(graph.model, head, layer, 'neck', neck);
    }
    return needed.every((w) => graph.model.weights[w]?.[0]) ? found : undefined;
  }

  get fetches(): string[] {
    const h = this.head;
    return [h.relu, h.mean, h.gate, ...(this.neck ? [this.neck.resizeNode, ...this.neck.branches.map((b) => b.depthwise)] : [])];
  }

  private weight(name: string): tf.Tensor {
    return this.model.weights[name]![0]!;
  }

  /**
   * Σ_ij W_ijc ∂S_k/∂A_ijc for every target k and channel c of the layer: [K,C]. W is the layer's activation or
   * ones. Exact: no cell of the gradient is dropped.
   */
  sums(fetched: Fetched, targets: readonly ScoreCells[], weighting: SumWeighting): tf.Tensor2D {
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
