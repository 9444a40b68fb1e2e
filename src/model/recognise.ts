// Pick a built-in adapter for a GraphModel from its layout alone: ultralytics YOLO exports (one output
// [1, 4 + C, N]) and GAP + dense classifiers (one output [1, K]). Output shapes are read from one forward pass
// on a blank input (converted graphs rarely record them), so the error for anything else can name them.
import { classifierClassNames } from './class-names.js';
import * as tf from '@tensorflow/tfjs-core';
import { oneLine, UserError } from '../errors.js';
import { classifierDetector, findClassifierHead } from './classifier.js';
import type { Detector } from './detector.js';
import type { GraphIndex } from './graph-walk.js';
import { inputNode } from './graph.js';
import { loadGraphModelFromFile, type LoadedGraph } from './load.js';
import { addLogitNode, findClassSigmoid, LOGIT_SUFFIX, findNeckOutputs, sigmoidInput, yoloClassNames, yoloDetector, type YoloLayout } from './yolo.js';

/** Input side used when the graph leaves it open (ultralytics' default export size). */
const DEFAULT_SIDE = 640;

interface InputInfo {
  name: string;
  layout: 'NHWC' | 'NCHW';
  width: number;
  height: number;
  channels: number;
}

function inputInfo(graph: LoadedGraph, model: string): InputInfo {
  const inputs = graph.model.inputs;
  const shape = inputs[0]?.shape;
  if (inputs.length !== 1 || !shape || shape.length !== 4) {
    const found = inputs.map((i) => `${i.name} ${fmt(i.shape)}`).join(', ') || 'none';
    throw new UserError(`model ${model}: built-in adapters need one image input [1,h,w,3], found ${found}; pass --adapter <module> (README: Your own detector)`);
  }
  const nchw = shape[1] === 3 && shape[3] !== 3;
  const [h, w, c] = nchw ? [shape[2], shape[3], shape[1]] : [shape[1], shape[2], shape[3]];
  const side = (v: number | undefined) => (v && v > 0 ? v : DEFAULT_SIDE);
  return { name: inputs[0]!.name, layout: nchw ? 'NCHW' : 'NHWC', width: side(w), height: side(h), channels: c && c > 0 ? c : 3 };
}

function fmt(shape: readonly (number | null | undefined)[] | undefined): string {
  return shape ? `[${shape.map((d) => (d === undefined || d === null || d < 0 ? '?' : d)).join(',')}]` : '[?]';
}

/** One forward pass on a grey input, fetching `names`: their shapes (tensors are freed). */
function probeShapes(graph: LoadedGraph, input: InputInfo, names: string[]): Map<string, number[]> {
  const dims = input.layout === 'NCHW' ? [1, input.channels, input.height, input.width] : [1, input.height, input.width, input.channels];
  const x = tf.fill(dims, 0.5);
  try {
    const out = graph.model.execute({ [input.name]: x }, names);
    const list = Array.isArray(out) ? out : [out];
    const shapes = new Map(names.map((n, i) => [n, list[i]!.shape]));
    tf.dispose(list);
    return shapes;
  } finally {
    x.dispose();
  }
}

/** The adapter for a model.json with no --adapter and no built-in node names, or a one-line UserError. */
export async function recogniseGraph(graph: LoadedGraph, model: string): Promise<Detector> {
  const input = inputInfo(graph, model);
  const g = graph.index;
  const outputs = graph.model.outputs.map((o) => o.name);
  const outputNodes = outputs.map(inputNode);
  let shapes: Map<string, number[]>;
  try {
    shapes = probeShapes(graph, input, outputs);
  } catch (err) {
    throw new UserError(`model ${model} failed on a blank ${input.width}x${input.height} input: ${oneLine(err)}`);
  }
  const outShapes = outputs.map((o) => shapes.get(o)!);
  const unrecognised = () =>
    new UserError(
      `model ${model} is not a known detector layout (input: ${input.name} ${fmt(graph.model.inputs[0]!.shape)}; outputs: ${outputs.map((o, i) => `${o} ${fmt(outShapes[i])}`).join(', ')}; built in: RGB image in, YOLO [1,4+C,N] or classifier [1,K] out); pass --adapter <module> (README: Your own detector)`,
    );
  if (outputs.length !== 1 || input.channels !== 3) throw unrecognised();
  const [shape] = outShapes as [number[]];
  if (shape.length === 3 && shape[1]! > 4 && shape[2]! > shape[1]!) {
    const layout = yoloLayout(graph, g, input, outputNodes[0]!, outputs[0]!, shape);
    if (!layout) throw unrecognised();
    let loaded = graph;
    if (layout.folded) {
      // No separate sigmoid: reload with a logit node added after the output, so targets stay pre-sigmoid.
      graph.model.dispose();
      loaded = await loadGraphModelFromFile(graph.path, (nodes) => addLogitNode(nodes, outputNodes[0]!));
    }
    return yoloDetector(loaded, layout, yoloClassNames(graph.path, layout.numClasses).names);
  }
  if (shape.length === 2 && shape[1]! >= 2) {
    const head = findClassifierHead(g, outputNodes[0]!);
    if (!head) throw unrecognised();
    const names = classifierClassNames(graph.path, shape[1]!);
    return classifierDetector(graph, { ...head, inputName: input.name, inputSize: { width: input.width, height: input.height }, decodeNode: outputs[0]! }, names);
  }
  throw unrecognised();
}

function yoloLayout(graph: LoadedGraph, g: GraphIndex, input: InputInfo, outputNode: string, output: string, shape: number[]): YoloLayout | undefined {
  const numClasses = shape[1]! - 4;
  const sigmoid = findClassSigmoid(g, outputNode);
  const pre = sigmoid ? sigmoidInput(g, sigmoid) : undefined;
  const necks = findNeckOutputs(g, pre ?? outputNode);
  if (!necks.length) return undefined;
  const probe = [...(pre ? [pre] : []), ...necks];
  const shapes = probeShapes(graph, input, probe);
  // The separate sigmoid counts only if it holds exactly the class rows [1, C, N].
  const preShape = pre ? shapes.get(pre)! : undefined;
  const unfolded = preShape !== undefined && preShape.length === 3 && preShape[1] === numClasses && preShape[2] === shape[2];
  const area = (n: string) => {
    const s = shapes.get(n)!;
    return s.length === 4 ? s[1]! * s[2]! : 0;
  };
  const neckLayers = necks.filter((n) => shapes.get(n)!.length === 4).sort((a, b) => area(a) - area(b));
  if (!neckLayers.length) return undefined;
  return {
    inputName: input.name,
    layout: input.layout,
    inputSize: { width: input.width, height: input.height },
    numClasses,
    scoreNode: unfolded ? pre! : outputNode + LOGIT_SUFFIX,
    classOffset: unfolded ? 0 : 4,
    folded: !unfolded,
    neckLayers,
    decodeNode: output,
  };
}
