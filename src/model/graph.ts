// Reading and editing a GraphModel's topology (model.json `modelTopology.node`).

export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- TF attr protos are loosely typed
}

/** Strip control-dependency (`^x`) and output-index (`x:1`) decorations from an input reference. */
export function inputNode(ref: string): string {
  return ref.replace(/^\^/, '').replace(/:\d+$/, '');
}

export const PROBE_SUFFIX = '/saliencam_probe';

/**
 * Insert a gradient probe after each layer: `layer' = layer + probe` with `probe` a new placeholder, and every
 * consumer rewired to `layer'`. Feeding zeros leaves the model unchanged, and d(score)/d(probe) = d(score)/d(layer),
 * so one backward pass yields the gradients at all probed layers.
 */
export function addGradientProbes(nodes: GraphNode[], layers: string[]): void {
  for (const layer of layers) {
    const probed = `${layer}/saliencam_probed`;
    for (const n of nodes) {
      if (!n.input) continue;
      n.input = n.input.map((ref) => (inputNode(ref) === layer && !ref.startsWith('^') ? ref.replace(layer, probed) : ref));
    }
    nodes.push({ name: layer + PROBE_SUFFIX, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' } } });
    nodes.push({ name: probed, op: 'AddV2', input: [layer, layer + PROBE_SUFFIX], attr: { T: { type: 'DT_FLOAT' } } });
  }
}
