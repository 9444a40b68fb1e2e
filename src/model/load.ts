// Load a TF.js GraphModel from disk (model.json + weight shards) with a small IO handler: no fetch, no hub.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { oneLine, UserError } from '../errors.js';
import { terminalSafe } from '../terminal-text.js';
import { checkManifest, DTYPE_BYTES, type WeightsGroup } from './manifest.js';
import { insideModelFolder, readRegularFile } from './model-files.js';
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
  weightsManifest?: WeightsGroup[];
  signature?: unknown;
  userDefinedMetadata?: unknown;
}

/** model.json is topology only (weights are in the shards): real ones are a few MiB. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

/** Reads and checks a model.json; every failure is a one-line UserError naming the file. */
async function readModelJson(path: string): Promise<ModelJson> {
  let text: string;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new UserError(`model ${path} is a directory; pass the model.json file`);
    text = readRegularFile(path, MAX_MODEL_JSON_BYTES, 'model').toString('utf8');
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
  json.weightsManifest = checkManifest(json.weightsManifest, path);
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
  // The manifest's byte counts are the budget: no shard is read past what is still expected.
  const expected = specs.reduce((n, s) => n + byteSize(s), 0);
  const weightData = new Uint8Array(expected);
  let off = 0;
  for (const group of json.weightsManifest!) {
    for (const p of group.paths) {
      const what = `model weights of ${path}:`;
      const file = insideModelFolder(dir, p, what);
      if (!file) throw new UserError(`model weights ${terminalSafe(join(dir, p))} missing or unreadable (ENOENT)`);
      const shard = readRegularFile(file, expected - off, 'model weights');
      weightData.set(shard, off);
      off += shard.byteLength;
    }
  }
  if (off !== expected) {
    throw new UserError(`model weights for ${path} are ${off} bytes but the manifest needs ${expected} (corrupt or wrong .bin)`);
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
    // TF.js may quote values of the weights it decoded: keep the line short and escaped.
    throw new UserError(`model ${path} failed to load: ${terminalSafe(oneLine(err).slice(0, 200))}`);
  }
}

function byteSize(spec: tf.io.WeightsManifestEntry): number {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization?.dtype;
  return n * (q ? DTYPE_BYTES[q]! : DTYPE_BYTES[spec.dtype]!);
}
