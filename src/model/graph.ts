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

function consumers(nodes: GraphNode[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of nodes) {
    for (const ref of n.input ?? []) {
      const src = inputNode(ref);
      out.set(src, [...(out.get(src) ?? []), n.name]);
    }
  }
  return out;
}

function closure(start: Iterable<string>, next: (name: string) => string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...start];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...next(n));
  }
  return seen;
}

/**
 * The tensors that must be fed beside `layers` so that `output` can be computed without the model input:
 * nodes computed from the input, not downstream of the layers, that feed a node downstream of them (skip
 * connections). Empty when the layers cut the graph.
 */
export function frontier(nodes: GraphNode[], layers: string[], output: string, inputName: string): string[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const cons = consumers(nodes);
  const dynamic = closure([inputName], (n) => cons.get(n) ?? []);
  const downstream = closure(layers, (n) => cons.get(n) ?? []);
  const ancestors = closure([output], (n) => (byName.get(n)?.input ?? []).map(inputNode));
  const layerSet = new Set(layers);
  const result = new Set<string>();
  for (const name of ancestors) {
    if (!downstream.has(name) || layerSet.has(name)) continue;
    for (const ref of byName.get(name)?.input ?? []) {
      const src = inputNode(ref);
      if (dynamic.has(src) && !downstream.has(src)) result.add(src);
    }
  }
  return [...result];
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
