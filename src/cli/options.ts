// Flags shared by the commands that explain frames, with their parsers. A bad value is a one-line error
// (exit 2) from commander before any model is loaded.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BACKENDS, type BackendChoice } from '../model/backend.js';
import { boundsOf, CAM_METHODS, DEFAULT_EXPLAIN, DEFAULT_RENDER, COLORMAPS, explainSchema, POLYCAM_VARIANTS, renderSchema, VIEWS, type CamMethodName, type ColormapName, type ExplainOptions, type RenderOptions } from '../settings.js';
import type { EngineOptions } from '../engine.js';

export function numberIn(name: string, min: number, max: number, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/** A numeric flag bounded by its setting's schema. */
function schemaNumber(name: string, schema: Parameters<typeof boundsOf>[0]) {
  const { min, max } = boundsOf(schema);
  return numberIn(name, min, max);
}

export function classList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new InvalidArgumentError('--classes needs at least one class name, e.g. car,truck');
  return list;
}

export interface ModelFlags {
  workers?: number | 'auto';
  model: string;
  adapter?: string;
  backend: BackendChoice;
  layer?: string;
  batching: 'auto' | 'batched' | 'sequential';
}

export interface ExplainFlags extends ModelFlags {
  method: CamMethodName;
  classes?: string[];
  minScore: number;
  perDetection?: boolean;
  polycamVariant: ExplainOptions['polycamVariant'];
}

export interface RenderFlags {
  colormap: ColormapName;
  alpha: number;
  view: RenderOptions['view'];
  boxes: boolean;
  legend: boolean;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <name|path>', 'centernet, nanodet, or a path to a TF.js GraphModel model.json', 'centernet')
    .option('--adapter <module>', 'adapter module for a custom model (see README: Your own detector)')
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(BACKENDS).default('auto'))
    .option('--layer <node>', "override the CAM feature layer (a node name of the model's graph)")
    .addOption(new Option('--batching <mode>', 'K targets in one batched backward pass, or one pass each (auto: batched on GPU backends, sequential on WASM/CPU)').choices(['auto', 'batched', 'sequential']).default('auto'));
}

export function workerCount(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  return numberIn('--workers', 0, 16, true)(value);
}

/** For commands that explain many frames: where the engine runs. */
export function addWorkerOption(cmd: Command): Command {
  return cmd.option('--workers <n>', "explain in n worker threads (auto: one per core on WASM/CPU, 0: in the main thread)", workerCount, 'auto');
}

/** For commands that run the frame pipeline (export, serve): the stages between explain and render. */
export function addPipelineOptions(cmd: Command): Command {
  return cmd
    .option('--every <n>', 'explain every n-th frame, reuse the last maps in between', numberIn('--every', 1, 10000, true), 1)
    .option('--smooth <a>', 'exponential smoothing of maps over time, 0 (off) .. 1', numberIn('--smooth', 0, 0.99), 0);
}

export function addExplainOptions(cmd: Command): Command {
  return addModelOptions(cmd)
    // Choices, bounds and defaults come from the settings schema (src/settings.ts).
    .addOption(new Option('--method <name>', 'saliency method').choices(CAM_METHODS).default(DEFAULT_EXPLAIN.method))
    .option('--classes <list>', 'comma-separated class labels to explain (default: every detected class)', classList)
    .option('--min-score <s>', 'detection score threshold, 0..1', schemaNumber('--min-score', explainSchema.shape.minScore), DEFAULT_EXPLAIN.minScore)
    .option('--per-detection', 'one map per detected box instead of one per class')
    .addOption(new Option('--polycam-variant <v>', 'PolyCAM variant (PCAM+, PCAM-, PCAM±)').choices(POLYCAM_VARIANTS).default(DEFAULT_EXPLAIN.polycamVariant));
}

export function addRenderOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--colormap <name>', 'heatmap colours').choices(COLORMAPS).default(DEFAULT_RENDER.colormap))
    .option('--alpha <a>', 'overlay opacity at the map maximum, 0..1', schemaNumber('--alpha', renderSchema.shape.alpha), DEFAULT_RENDER.alpha)
    .addOption(new Option('--view <v>', 'blend: one overlay; grid: frame + one tile per class').choices(VIEWS).default(DEFAULT_RENDER.view))
    .option('--no-boxes', 'do not draw boxes and labels')
    .option('--no-legend', 'do not draw the colour-scale legend');
}

export function engineOptions(f: ModelFlags & Partial<ExplainFlags>): EngineOptions {
  return {
    model: f.model,
    ...(f.adapter ? { adapter: f.adapter } : {}),
    backend: f.backend,
    ...(f.layer ? { layer: f.layer } : {}),
    batching: f.batching,
    ...(f.workers !== undefined ? { workers: f.workers } : {}),
    defaults: explainOptions(f),
  };
}

export function explainOptions(f: Partial<ExplainFlags>): Partial<ExplainOptions> {
  return {
    ...(f.method ? { method: f.method } : {}),
    classes: f.classes ?? [],
    ...(f.minScore !== undefined ? { minScore: f.minScore } : {}),
    perDetection: Boolean(f.perDetection),
    ...(f.polycamVariant ? { polycamVariant: f.polycamVariant } : {}),
  };
}

export function renderOptions(f: RenderFlags): RenderOptions {
  return { colormap: f.colormap, alpha: f.alpha, view: f.view, boxes: f.boxes, legend: f.legend };
}
