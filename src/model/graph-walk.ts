// The one index over a GraphModel's topology, built once when the model loads (LoadedGraph.index), and the
// walks over it: recognising a layout (recognise.ts, yolo.ts, classifier.ts), the skip tensors to feed for
// gradients (`frontier`), an adapter's gradient shortcut (centernet-head.ts).
// Control inputs (`^x`) only order execution and carry no value: every walk follows data edges alone.
import { inputNode, type GraphNode } from './graph.js';

export interface GraphIndex {
  byName: Map<string, GraphNode>;
  /** Data consumers of each node. */
  consumers: Map<string, string[]>;
  /** Nodes computed from the model input (not constants). */
  dynamic: Set<string>;
}

export function indexGraph(nodes: GraphNode[], inputNames: string[]): GraphIndex {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, string[]>();
  for (const n of nodes) {
    for (const ref of n.input ?? []) {
      if (ref.startsWith('^')) continue;
      const src = inputNode(ref);
      consumers.set(src, [...(consumers.get(src) ?? []), n.name]);
    }
  }
  const g = { byName, consumers, dynamic: new Set<string>() };
  g.dynamic = descendants(g, inputNames);
  return g;
}

/** Data inputs of a node (control dependencies and output indices stripped). */
export function inputsOf(g: GraphIndex, name: string): string[] {
  return (g.byName.get(name)?.input ?? []).filter((r) => !r.startsWith('^')).map(inputNode);
}

/** Dynamic inputs only (constants such as weights, axes and shapes left out). */
export function dynamicInputsOf(g: GraphIndex, name: string): string[] {
  return inputsOf(g, name).filter((n) => g.dynamic.has(n));
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

/** Every node computed from `starts`, themselves included. */
export function descendants(g: GraphIndex, starts: Iterable<string>): Set<string> {
  return closure(starts, (n) => g.consumers.get(n) ?? []);
}

/** Every node `name` is computed from, itself included. */
export function ancestors(g: GraphIndex, name: string): Set<string> {
  return closure([name], (n) => inputsOf(g, n));
}

/** All dynamic ancestors of `name`, itself included. */
export function dynamicAncestors(g: GraphIndex, name: string): Set<string> {
  return closure(g.dynamic.has(name) ? [name] : [], (n) => dynamicInputsOf(g, n));
}

/**
 * The tensors that must be fed beside `layers` so that `output` can be computed without the model input:
 * nodes computed from the input, not downstream of the layers, that feed a node downstream of them (skip
 * connections). Empty when the layers cut the graph.
 */
export function frontier(g: GraphIndex, layers: string[], output: string): string[] {
  const downstream = descendants(g, layers);
  const layerSet = new Set(layers);
  const result = new Set<string>();
  for (const name of ancestors(g, output)) {
    if (!downstream.has(name) || layerSet.has(name)) continue;
    for (const src of inputsOf(g, name)) if (g.dynamic.has(src) && !downstream.has(src)) result.add(src);
  }
  return [...result];
}

/**
 * Walk back from `start` through ops in `through` (layout ops such as Identity, ConcatV2, Reshape); returns the
 * first nodes reached whose op is not in `through` (the frontier of the walk).
 */
export function walkBackThrough(g: GraphIndex, start: string, through: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    const node = g.byName.get(n);
    if (!node || !g.dynamic.has(n)) continue;
    if (n !== start && !through.has(node.op)) {
      found.push(n);
      continue;
    }
    stack.push(...inputsOf(g, n));
  }
  return found;
}
