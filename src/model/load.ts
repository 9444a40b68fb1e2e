// Load a TF.js GraphModel from disk (model.json + weight shards) with a small IO handler: no fetch, no hub.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { oneLine, UserError } from '../errors.js';
import { relaxInputBatch, relaxReshapeBatch, splitBiasOnlyFusedConvs } from './graph-rewrite.js';
import type { GraphNode } from './graph.js';
import { indexGraph, type GraphIndex } from './graph-walk.js';

/** A loaded model with its (rewritten) topology, for graph analysis. */
export interface LoadedGraph {
  model: GraphModel;
  nodes: GraphNode[];
  /** The topology's one index (data edges, consumers, what the inputs reach), built here once. */
  index: GraphIndex;
  path: string;
}

interface ModelJson {
  format?: string;
  modelTopology?: { node?: unknown[] };
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  signature?: unknown;
  userDefinedMetadata?: unknown;
}

/** Reads and checks a model.json; every failure is a one-line UserError naming the file. */
async function readModelJson(path: string): Promise<ModelJson> {
  let text: string;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new UserError(`model ${path} is a directory; pass the model.json file`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read model ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch {
    throw new UserError(`model ${path} is not valid JSON (expected a TF.js GraphModel model.json)`);
  }
  if (!json.modelTopology || !Array.isArray(json.modelTopology.node) || !Array.isArray(json.weightsManifest)) {
    throw new UserError(`model ${path} is not a TF.js GraphModel (no modelTopology.node / weightsManifest)`);
  }
  return json;
}

/**
 * Load model.json + shards from disk. `edit` may rewrite the topology first (e.g. add gradient probes);
 * bias-only fused convs are always split (see graph-rewrite.ts).
 */
export async function loadGraphModelFromFile(path: string, edit?: (nodes: GraphNode[]) => void): Promise<LoadedGraph> {
  const json = await readModelJson(path);
  const nodes = json.modelTopology!.node as GraphNode[];
  splitBiasOnlyFusedConvs(nodes);
  relaxInputBatch(nodes, json.signature as Parameters<typeof relaxInputBatch>[1]);
  edit?.(nodes);
  const dir = dirname(path);
  const specs = json.weightsManifest!.flatMap((g) => g.weights);
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest!) {
    for (const p of group.paths) {
      try {
        buffers.push(await readFile(join(dir, p)));
      } catch (err) {
        throw new UserError(`model weights ${join(dir, p)} missing or unreadable (${(err as NodeJS.ErrnoException).code ?? err})`);
      }
    }
  }
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    weightData.set(b, off);
    off += b.byteLength;
  }
  const expected = specs.reduce((n, s) => n + byteSize(s), 0);
  if (expected !== total) {
    throw new UserError(`model weights for ${path} are ${total} bytes but the manifest needs ${expected} (corrupt or wrong .bin)`);
  }
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology as object,
      weightSpecs: specs,
      weightData: weightData.buffer as ArrayBuffer,
      format: json.format,
      signature: json.signature as {},
      userDefinedMetadata: json.userDefinedMetadata as Record<string, {}>,
    }),
  };
  try {
    const model = await loadGraphModel(handler);
    relaxReshapeBatch(nodes, model.weights);
    const index = indexGraph(nodes, model.inputs.map((i) => i.name));
    return { model, nodes, index, path };
  } catch (err) {
    throw new UserError(`model ${path} failed to load: ${oneLine(err)}`);
  }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2, complex64: 8 };

function byteSize(spec: tf.io.WeightsManifestEntry): number {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization?.dtype;
  if (spec.dtype === 'string') return 0;
  return n * (q ? DTYPE_BYTES[q]! : DTYPE_BYTES[spec.dtype]!);
}
