// Flags shared by the commands that explain frames, with their parsers. A bad value is a one-line error
// (exit 2) from commander before any model is loaded.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BACKENDS, type BackendChoice } from '../model/backend.js';
import { z } from 'zod';
import { boundsOf, CAM_METHODS, innerOf, DEFAULT_EXPLAIN, DEFAULT_RENDER, COLORMAPS, explainSchema, flagName, METHOD_PARAM_SCHEMAS, regionSchema, type RegionTarget, methodParamFlag, methodParamsSchema, parseSettings, renderSchema, VIEWS, type CamMethodName, type ColormapName, type ExplainOptions, type RenderOptions } from '../settings.js';
import { UserError } from '../errors.js';
import { parseAuditMethods, type AuditMethod } from '../audit/methods.js';
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

/**
 * A moment as ns since 1970: an ISO 8601 date-time with its zone (`2024-05-01T12:00:00.250Z`, `…+02:00`) or
 * seconds since 1970 (`1714564800.25`).
 */
export function instantNs(name: string) {
  return (value: string): bigint => {
    const v = value.trim();
    if (/^\d+(\.\d+)?$/.test(v)) {
      const [whole, frac = ''] = v.split('.');
      if (whole!.length <= 11) return BigInt(whole!) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
    }
    // A zone is required: a local time would move with the machine's.
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(v)) {
      const ms = Date.parse(v);
      if (Number.isFinite(ms) && ms >= 0) return BigInt(ms) * 1_000_000n;
    }
    throw new InvalidArgumentError(`${name} must be an ISO 8601 date-time with a zone (2024-05-01T12:00:00Z) or seconds since 1970, got "${value}"`);
  };
}

/** A numeric flag bounded by its setting's schema. */
function schemaNumber(name: string, schema: z.ZodType) {
  const { min, max, integer } = boundsOf(schema);
  return numberIn(name, min, max, integer);
}

/**
 * A flag made from a setting's schema: its choices (enum), bounds (number) or switch (boolean), its default and
 * its help (`.describe()`), so the flag and the schema cannot disagree. `key` names the flag (`maxFrames` →
 * `--max-frames`) unless `flag` is given.
 */
export function schemaOption(key: string, schema: z.ZodType, o: { flag?: string; description?: string } = {}): Option {
  const flag = o.flag ?? flagName(key);
  const inner = innerOf(schema);
  const description = o.description ?? schema.description ?? '';
  const parsed = schema.safeParse(undefined);
  const fallback = parsed.success ? (parsed.data as unknown) : undefined;
  let option: Option;
  if (inner instanceof z.ZodBoolean) return new Option(flag, description);
  if (inner instanceof z.ZodEnum) option = new Option(`${flag} <v>`, description).choices(inner.options as string[]);
  else if (inner instanceof z.ZodNumber) option = new Option(`${flag} <n>`, description).argParser(schemaNumber(flag, inner));
  else throw new Error(`schemaOption: no flag form for ${key}`);
  // Arrays and objects get their defaults from the schema when parsed; a flag shows plain defaults only.
  return fallback !== undefined && typeof fallback !== 'object' ? option.default(fallback) : option;
}

/** Every method's parameters (`polycam`'s `variant`), from the registry rows' schemas, with their flags' attribute names. */
const METHOD_PARAM_FLAGS = Object.entries(METHOD_PARAM_SCHEMAS as Record<string, z.ZodObject>).flatMap(([method, params]) =>
  Object.entries(params.shape).map(([param, schema]) => {
    // A new Option per command: commander keeps per-command state on the ones it is given.
    const option = (): Option => schemaOption(param, schema as z.ZodType, { flag: methodParamFlag(method, param) });
    return { method, param, option, attribute: option().attributeName() };
  }),
);

/** The flags of every method's parameters (`--polycam-variant`). */
export function addMethodParamOptions(cmd: Command): Command {
  for (const { option } of METHOD_PARAM_FLAGS) cmd.addOption(option());
  return cmd;
}

/** The method parameters given as flags, nested under their methods and checked (`{polycam: {variant: 'minus'}}`). */
export function methodParamsFromFlags(flags: object): ExplainOptions['methodParams'] {
  const raw: Record<string, Record<string, unknown>> = {};
  for (const { method, param, attribute } of METHOD_PARAM_FLAGS) {
    const value = (flags as Record<string, unknown>)[attribute];
    if (value !== undefined) (raw[method] ??= {})[param] = value;
  }
  return parseSettings(methodParamsSchema, raw, (m) => new UserError(m));
}

/** `--why car@x1,y1,x2,y2` (repeatable): one region target per flag, checked by the settings schema's box. */
export function whyRegion(value: string, previous: RegionTarget[] = []): RegionTarget[] {
  const m = /^([^@]+)@(.+)$/.exec(value.trim());
  const nums = m ? m[2]!.split(',').map((v) => (v.trim() === '' ? NaN : Number(v))) : [];
  if (!m || nums.length !== 4 || nums.some((n) => !Number.isFinite(n))) throw new InvalidArgumentError(`--why takes class@x1,y1,x2,y2 in source pixels (e.g. car@600,270,680,320), got "${value}"`);
  const r = regionSchema.safeParse({ label: m[1]!.trim(), box: nums });
  if (!r.success) throw new InvalidArgumentError(`--why ${value}: ${r.error.issues[0]?.message ?? 'invalid region'}`);
  return [...previous, r.data];
}

export function classList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new InvalidArgumentError('--classes needs at least one class name, e.g. car,truck');
  return list;
}

/** An audit's method list, "a,b,c": an unknown or repeated method is named. */
export function auditMethodList(value: string): AuditMethod[] {
  try {
    return parseAuditMethods(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export interface ModelFlags {
  workers?: number | 'auto';
  model: string;
  adapter?: string;
  names?: string;
  backend: BackendChoice;
  layer?: string;
  batching: 'auto' | 'batched' | 'sequential';
}

export interface ExplainFlags extends ModelFlags {
  method: CamMethodName;
  classes?: string[];
  minScore: number;
  perDetection?: boolean;
  why?: RegionTarget[];
  versus?: string;
  // Method parameters arrive as their own flags' attributes (`polycamVariant`): see methodParamsFromFlags.
}

export interface RenderFlags {
  colormap: ColormapName;
  alpha: number;
  view: RenderOptions['view'];
  boxes: boolean;
  legend: boolean;
  normalise?: RenderOptions['normalise'];
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <name|path>', 'centernet, nanodet, or a path to a TF.js GraphModel model.json', 'centernet')
    .option('--adapter <module>', 'adapter module for a custom model (see README: Your own detector)')
    .option('--names <file>', "the model's class names, one per line (or a YAML/JSON list), in its class order")
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
  addModelOptions(cmd)
    // Choices, bounds and defaults come from the settings schema (src/settings.ts).
    .addOption(new Option('--method <name>', 'saliency method').choices(CAM_METHODS).default(DEFAULT_EXPLAIN.method))
    .option('--classes <list>', 'comma-separated class labels to explain (default: every detected class)', classList)
    .option('--min-score <s>', 'detection score threshold, 0..1', schemaNumber('--min-score', explainSchema.shape.minScore), DEFAULT_EXPLAIN.minScore)
    .option('--per-detection', 'one map per detected box instead of one per class')
    .option('--why <class@x1,y1,x2,y2>', "why not here: explain the class's best score in the box, before the threshold (repeatable)", whyRegion)
    .option('--versus <class>', 'with --per-detection: explain score(detected class) − score(this class) at each detection');
  return addMethodParamOptions(cmd);
}

export function addRenderOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--colormap <name>', 'heatmap colours').choices(COLORMAPS).default(DEFAULT_RENDER.colormap))
    .option('--alpha <a>', 'overlay opacity at the map maximum, 0..1', schemaNumber('--alpha', renderSchema.shape.alpha), DEFAULT_RENDER.alpha)
    .addOption(new Option('--view <v>', 'blend: one overlay; grid: frame + one tile per class').choices(VIEWS).default(DEFAULT_RENDER.view))
    .option('--no-boxes', 'do not draw boxes and labels')
    .option('--no-legend', 'do not draw the colour-scale legend')
    .addOption(schemaOption('normalise', renderSchema.shape.normalise, { description: "global (default): each map scaled by its own maximum; box: each detection's heat scaled within its own box" }));
}

export function engineOptions(f: ModelFlags & Partial<ExplainFlags>): EngineOptions {
  return {
    model: f.model,
    ...(f.adapter ? { adapter: f.adapter } : {}),
    ...(f.names ? { names: f.names } : {}),
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
    ...(f.why ? { why: f.why } : {}),
    ...(f.versus ? { versus: f.versus } : {}),
    methodParams: methodParamsFromFlags(f),
  };
}

export function renderOptions(f: RenderFlags): RenderOptions {
  return { colormap: f.colormap, alpha: f.alpha, view: f.view, boxes: f.boxes, legend: f.legend, ...(f.normalise ? { normalise: f.normalise } : {}) };
}
