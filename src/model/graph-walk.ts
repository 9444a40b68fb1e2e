// Read-only walks over a GraphModel topology, for recognising a model's layout without knowing its node names.
import { inputNode, type GraphNode } from './graph.js';

export interface GraphIndex {
  byName: Map<string, GraphNode>;
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
  const dynamic = new Set<string>();
  const stack = [...inputNames];
  while (stack.length) {
    const n = stack.pop()!;
    if (dynamic.has(n)) continue;
    dynamic.add(n);
    stack.push(...(consumers.get(n) ?? []));
  }
  return { byName, consumers, dynamic };
}

/** Data inputs of a node (control dependencies and output indices stripped). */
export function inputsOf(g: GraphIndex, name: string): string[] {
  return (g.byName.get(name)?.input ?? []).filter((r) => !r.startsWith('^')).map(inputNode);
}

/** Dynamic inputs only (constants such as weights, axes and shapes left out). */
export function dynamicInputsOf(g: GraphIndex, name: string): string[] {
  return inputsOf(g, name).filter((n) => g.dynamic.has(n));
}

/** All dynamic ancestors of `name`, itself included. */
export function dynamicAncestors(g: GraphIndex, name: string): Set<string> {
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !g.dynamic.has(n)) continue;
    seen.add(n);
    stack.push(...inputsOf(g, n));
  }
  return seen;
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
