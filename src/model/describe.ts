// What saliencam recognised in a model, for `saliencam info --model`: one blank forward pass gives the shapes
// that converted graphs rarely record.
import * as tf from '@tensorflow/tfjs-core';
import type { Detector } from './detector.js';

export interface ModelDescription {
  adapter: string;
  path: string;
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
  classes: readonly string[];
  scoreNodes: { name: string; shape: number[] }[];
  scoreActivation: string;
  camLayer: { name: string; shape: number[] };
  polyLayers: { name: string; shape: number[] }[];
  camWeights?: { layer: string; weights: string; shape: number[] };
}

export function describeDetector(d: Detector): ModelDescription {
  const names = [...new Set([...d.decodeNodes, ...d.scoreNodes, d.camLayer, ...d.polyLayers])];
  const input = d.preprocess({ index: 0, time: 0, width: d.inputSize.width, height: d.inputSize.height, rgb: new Uint8Array(d.inputSize.width * d.inputSize.height * 3).fill(128) });
  const shapes = new Map<string, number[]>();
  try {
    const raw = d.graph.model.execute({ [d.inputName]: input }, names);
    const out = Array.isArray(raw) ? raw : [raw]; // one name in, one tensor out
    names.forEach((n, i) => shapes.set(n, out[i]!.shape));
    tf.dispose(out);
  } finally {
    input.dispose();
  }
  const node = (name: string) => ({ name, shape: shapes.get(name) ?? [] });
  const kernel = d.camWeights ? d.graph.model.weights[d.camWeights.weights]?.[0] : undefined;
  return {
    adapter: d.name,
    path: d.graph.path,
    inputs: [{ name: d.inputName, shape: [...input.shape] }],
    outputs: d.decodeNodes.map(node),
    classes: d.classNames,
    scoreNodes: d.scoreNodes.map(node),
    scoreActivation: d.scoreActivation,
    camLayer: node(d.camLayer),
    polyLayers: d.polyLayers.map(node),
    ...(d.camWeights ? { camWeights: { layer: d.camWeights.layer, weights: d.camWeights.weights, shape: kernel?.shape ?? [] } } : {}),
  };
}

export function formatDescription(m: ModelDescription): string[] {
  const shape = (s: number[]) => `[${s.join(',')}]`;
  const list = (xs: { name: string; shape: number[] }[]) => xs.map((x) => `${x.name} ${shape(x.shape)}`).join(', ') || 'none';
  const shown = m.classes.slice(0, 8).join(', ') + (m.classes.length > 8 ? ', …' : '');
  return [
    `model ${m.path}`,
    `  adapter:      ${m.adapter}`,
    `  inputs:       ${list(m.inputs)}`,
    `  outputs:      ${list(m.outputs)}`,
    `  classes:      ${m.classes.length} (${shown})`,
    `  targets:      ${list(m.scoreNodes)} (${m.scoreActivation === 'sigmoid' ? 'pre-sigmoid' : 'raw'} scores)`,
    `  CAM layer:    ${list([m.camLayer])}`,
    `  PolyCAM:      ${list(m.polyLayers)}`,
    `  CAM weights:  ${m.camWeights ? `${m.camWeights.weights} ${shape(m.camWeights.shape)} (dense after pooling ${m.camWeights.layer}; --method cam)` : 'none (--method cam needs a GAP + dense classifier)'}`,
  ];
}
