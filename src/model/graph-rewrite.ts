// Graph surgery on a TF.js GraphModel's JSON topology, done before loading.
//
// Why: in gradient mode TF.js routes a fused conv whose only fused op is BiasAdd through a custom gradient that
// computes the *filter* gradient eagerly even when only d/dx is wanted. WASM has no Conv2DBackpropFilter kernel
// (it fails) and the CPU backend spends seconds in it. Splitting those nodes into a plain conv followed by a
// BiasAdd under the same output name gives the same numbers (within float rounding) and plain gradients.

import * as tf from '@tensorflow/tfjs-core';
import { inputNode, type GraphNode } from './graph.js';

const PLAIN_OP: Record<string, string> = {
  _FusedConv2D: 'Conv2D',
  FusedDepthwiseConv2dNative: 'DepthwiseConv2dNative',
};

function fusedOps(node: GraphNode): string[] {
  const list = node.attr?.['fused_ops']?.list?.s ?? [];
  return list.map((s: string) => Buffer.from(s, 'base64').toString('utf8'));
}

/** Returns how many nodes were split. Mutates `nodes` in place. */
export function splitBiasOnlyFusedConvs(nodes: GraphNode[]): number {
  let split = 0;
  const out: GraphNode[] = [];
  for (const node of nodes) {
    const plainOp = PLAIN_OP[node.op];
    const ops = fusedOps(node);
    if (!plainOp || ops.length !== 1 || ops[0] !== 'BiasAdd' || !node.input || node.input.length < 3) {
      out.push(node);
      continue;
    }
    const [x, filter, bias] = node.input as [string, string, string];
    const convAttr = { ...node.attr };
    delete convAttr['fused_ops'];
    delete convAttr['num_args'];
    delete convAttr['epsilon'];
    const convName = `${node.name}/saliencam_conv`;
    out.push({ name: convName, op: plainOp, input: [x, filter], attr: convAttr });
    const biasAttr: GraphNode['attr'] = {};
    if (node.attr?.['T']) biasAttr['T'] = node.attr['T'];
    if (node.attr?.['data_format']) biasAttr['data_format'] = node.attr['data_format'];
    out.push({ name: node.name, op: 'BiasAdd', input: [convName, bias], attr: biasAttr });
    split++;
  }
  nodes.splice(0, nodes.length, ...out);
  return split;
}

interface ShapeProto {
  dim?: { size?: string }[];
}

/**
 * Let the model inputs take any batch size: converted detectors often pin it to 1, but their convolutional
 * heads are batch-agnostic, and batches are how saliencam scores many masked or perturbed inputs at once.
 * Returns the input names changed.
 */
export function relaxInputBatch(nodes: GraphNode[], signature?: { inputs?: Record<string, { tensorShape?: ShapeProto }> }): string[] {
  const changed: string[] = [];
  for (const n of nodes) {
    const dims = (n.attr?.['shape']?.shape as ShapeProto | undefined)?.dim;
    if (n.op !== 'Placeholder' || !dims?.length || dims[0]!.size !== '1') continue;
    dims[0]!.size = '-1';
    changed.push(n.name);
  }
  for (const input of Object.values(signature?.inputs ?? {})) {
    const dims = input.tensorShape?.dim;
    if (dims?.length && dims[0]!.size === '1') dims[0]!.size = '-1';
  }
  return changed;
}

/**
 * Reshapes to a constant shape [1, d1, …] (all dims known) pin the batch to 1 inside the graph, as YOLO exports'
 * head reshapes do; give them −1 instead. Wherever the old shape was valid the new one gives the same result
 * (the other dims are fixed, so −1 resolves to the same size), and batches > 1 now work. Mutates the loaded
 * model's weight map; returns the shape constants changed.
 */
export function relaxReshapeBatch(nodes: GraphNode[], weights: Record<string, tf.Tensor[]>): string[] {
  const changed: string[] = [];
  for (const n of nodes) {
    if (n.op !== 'Reshape' || !n.input?.[1]) continue;
    const name = inputNode(n.input[1]);
    const t = weights[name]?.[0];
    if (!t || t.dtype !== 'int32' || t.rank !== 1 || changed.includes(name)) continue;
    const dims = Array.from(t.dataSync());
    if (dims.length < 2 || dims[0] !== 1 || !dims.slice(1).every((d) => d > 0)) continue;
    weights[name] = [tf.tensor1d([-1, ...dims.slice(1)], 'int32')];
    t.dispose();
    changed.push(name);
  }
  return changed;
}
