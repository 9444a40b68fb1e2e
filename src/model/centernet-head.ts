// Reading CenterNet's head pattern from the graph, for its gradient shortcut (centernet-adjoint.ts): the score
// conv over a squeeze-excitation-gated ReLU, and the neck branches from a layer up to that ReLU. A head or layer
// that does not match gets no shortcut (the full backward pass runs).
import type { GraphNode } from './graph.js';
import { ancestors, inputsOf, type GraphIndex } from './graph-walk.js';

export interface Branch {
  /** Depthwise conv on the layer (its output is fetched). */
  depthwise: string;
  depthwiseFilter: string;
  padding: 'same' | 'valid';
  /** 1×1 conv weights [1,1,C_layer,C_up]. */
  pointwise: string;
}

export interface Neck {
  branches: Branch[];
  /** The ResizeBilinear node (its pre-ReLU output gives R's mask over the resized channels without a slice). */
  resizeNode: string;
  resize: { alignCorners: boolean; halfPixelCenters: boolean };
}

export interface Head {
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

/** The node's i-th data input. */
function input(g: GraphIndex, n: GraphNode, i: number): GraphNode | undefined {
  return g.byName.get(inputsOf(g, n.name)[i]!);
}

/** Follow an output through a split-off BiasAdd (graph-rewrite.ts) to the plain conv feeding it. */
function throughBias(g: GraphIndex, name: string): GraphNode | undefined {
  const n = g.byName.get(name);
  return n?.op === 'BiasAdd' ? input(g, n, 0) : n;
}

export function findHead(g: GraphIndex, score: string): Head | undefined {
  const conv = throughBias(g, score);
  if (conv?.op !== 'Conv2D' || !unitStrides(conv)) return undefined;
  const dw = input(g, conv, 0);
  if (dw?.op !== 'DepthwiseConv2dNative' || !unitStrides(dw) || attrString(dw, 'padding') !== 'SAME') return undefined;
  const gated = input(g, dw, 0);
  if (gated?.op !== 'Mul') return undefined;
  const ins = inputsOf(g, gated.name).map((r) => g.byName.get(r));
  const relu = ins.find((n) => n?.op === 'Relu');
  const gate = ins.find((n) => n?.op === 'Sigmoid');
  if (!relu || !gate) return undefined;
  // The gate must see R only through a spatial mean.
  let mean: GraphNode | undefined;
  const stack = [gate.name];
  const seen = new Set<string>();
  while (stack.length) {
    const n = g.byName.get(stack.pop()!);
    if (!n || seen.has(n.name)) continue;
    seen.add(n.name);
    if (n.name === relu.name) return undefined;
    if (n.op === 'Mean' && inputsOf(g, n.name)[0] === relu.name) {
      if (n.attr?.['keep_dims']?.b !== true) return undefined;
      mean = n;
      continue;
    }
    stack.push(...inputsOf(g, n.name));
  }
  if (!mean) return undefined;
  return {
    score,
    relu: relu.name,
    mean: mean.name,
    gate: gate.name,
    gated: gated.name,
    clsDepthwise: inputsOf(g, dw.name)[1]!,
    clsPointwise: inputsOf(g, conv.name)[1]!,
  };
}

/** layer → depthwise → 1×1 (→ bias) per branch → Add → ResizeBilinear → last input of the Concat under R. */
export function findNeck(g: GraphIndex, head: Head, layer: string): Neck | undefined {
  const concat = input(g, g.byName.get(head.relu)!, 0);
  if (concat?.op !== 'ConcatV2') return undefined;
  const parts = inputsOf(g, concat.name);
  const resize = g.byName.get(parts[parts.length - 2]!); // the last tensor input (the axis comes after)
  if (resize?.op !== 'ResizeBilinear') return undefined;
  const add = input(g, resize, 0);
  if (add?.op !== 'Add' && add?.op !== 'AddV2' && add?.op !== 'AddN') return undefined;
  const branches: Branch[] = [];
  for (const ref of inputsOf(g, add.name)) {
    const conv = throughBias(g, ref);
    if (conv?.op !== 'Conv2D' || !unitStrides(conv)) return undefined;
    const dw = input(g, conv, 0);
    if (dw?.op !== 'DepthwiseConv2dNative' || !unitStrides(dw) || inputsOf(g, dw.name)[0] !== layer) return undefined;
    const pad = attrString(dw, 'padding');
    if (pad !== 'SAME' && pad !== 'VALID') return undefined;
    branches.push({ depthwise: dw.name, depthwiseFilter: inputsOf(g, dw.name)[1]!, padding: pad === 'SAME' ? 'same' : 'valid', pointwise: inputsOf(g, conv.name)[1]! });
  }
  // Every use of the layer on the way to the score must be one of the branches.
  const onPath = ancestors(g, head.score);
  const uses = new Set((g.consumers.get(layer) ?? []).filter((n) => onPath.has(n)));
  if (uses.size !== branches.length || !branches.every((b) => uses.has(b.depthwise))) return undefined;
  return { branches, resizeNode: resize.name, resize: { alignCorners: resize.attr?.['align_corners']?.b === true, halfPixelCenters: resize.attr?.['half_pixel_centers']?.b === true } };
}
