// The one settings schema: what to explain and how to draw it, with defaults and bounds. The CLI flags'
// choices and bounds, the WebSocket `set` command, the engine's checks, `hello`'s lists and the web app's
// types (z.infer) all come from here, so a bad value gets the same one-line message wherever it is given.
import { z } from 'zod';
import { CAM_METHODS, DEFAULT_METHOD, METHODS_AUDITED_BY_DEFAULT, METHOD_PARAM_SCHEMAS, type CamMethodName, type MethodParams, type MethodParamSchemas } from './saliency/methods/index.js';

// The method names and their parameters' schemas are the registry's (a new method is its file plus its
// registry row, nothing here).
export { CAM_METHODS, METHOD_PARAM_SCHEMAS, type CamMethodName, type MethodParams };
export const COLORMAPS = ['turbo', 'jet', 'viridis', 'inferno'] as const;
export const VIEWS = ['blend', 'grid'] as const;
export const NORMALISE = ['global', 'box'] as const;

type MethodParamsShape = { [N in keyof MethodParamSchemas]: z.ZodDefault<MethodParamSchemas[N]> };
type MethodParamChangesShape = { [N in keyof MethodParamSchemas]: z.ZodOptional<MethodParamSchemas[N]> };
const paramEntries = Object.entries(METHOD_PARAM_SCHEMAS) as [string, z.ZodObject][];

/** Each method's own parameters, nested under the method (`methodParams.polycam.variant`), every one defaulted. */
export const methodParamsSchema = z.strictObject(
  Object.fromEntries(paramEntries.map(([name, p]) => [name, p.default(() => p.parse({}))])) as unknown as MethodParamsShape,
);

/** A change to some methods' parameters (the `set` command): a method left out keeps its parameters. */
export const methodParamChangesSchema = z.strictObject(
  Object.fromEntries(paramEntries.map(([name, p]) => [name, p.optional()])) as unknown as MethodParamChangesShape,
);

/** A class label (checked against the model's list where the model is known). */
const className = z.string().min(1).max(64);

/** A box in source pixels, [x1, y1, x2, y2], x2 > x1 and y2 > y1. */
export const boxSchema = z
  .tuple([z.number().min(0).max(1e6), z.number().min(0).max(1e6), z.number().min(0).max(1e6), z.number().min(0).max(1e6)])
  .refine(([x1, y1, x2, y2]) => x2 > x1 && y2 > y1, { message: 'a box is x1,y1,x2,y2 with x2 > x1 and y2 > y1' });

/** A region target: a class and a box where the detector may have reported nothing. */
export const regionSchema = z.strictObject({ label: className, box: boxSchema });
export type RegionTarget = z.infer<typeof regionSchema>;

export const explainSchema = z.object({
  method: z.enum(CAM_METHODS).default(DEFAULT_METHOD),
  /** Class labels to explain; empty = every detected class. */
  classes: z.array(className).max(1000).default([]),
  /** Detections below this score are dropped (and not explained). */
  minScore: z.number().min(0).max(1).default(0.3),
  /** One map per detection instead of one per class. */
  perDetection: z.boolean().default(false),
  /** The parameters of each method that has some (only those of `method` are used). */
  methodParams: methodParamsSchema.default(() => methodParamsSchema.parse({})),
  /** Explain at most this many targets, highest-scoring first (benchmarks; default unlimited). */
  maxTargets: z.number().int().min(0).optional(),
  /** Region targets ("why not here"): each class's best score cell in each box, before the threshold. */
  why: z.array(regionSchema).max(16).default([]),
  /** Contrastive per-detection maps: score(detected class) − score(this class) at each detection's cells. */
  versus: className.nullable().default(null),
});

export const renderSchema = z.object({
  colormap: z.enum(COLORMAPS).default('turbo'),
  /** Opacity of the saliency overlay at the map's maximum. */
  alpha: z.number().min(0).max(1).default(0.6),
  /** blend: one overlay; grid: the frame + one tile per map. */
  view: z.enum(VIEWS).default('blend'),
  /** Draw boxes, labels and scores. */
  boxes: z.boolean().default(true),
  /** Draw the colour-scale legend. */
  legend: z.boolean().default(true),
  /** global (when left out): each map scaled by its own maximum; box: each detection's heat scaled within its own box. */
  normalise: z.enum(NORMALISE).optional(),
});

/** What a dashboard viewer may change (the `set` command); applies to the next frame or the paused one. */
export const dashboardSchema = z.object({
  ...explainSchema.pick({ method: true, methodParams: true, perDetection: true, why: true, versus: true }).shape,
  ...renderSchema.pick({ colormap: true, alpha: true, view: true, boxes: true, normalise: true }).shape,
  /** Classes neither shown nor explained (empty = every class). */
  hiddenClasses: z.array(className).max(1000).default([]),
});

/** The stages between explain and render, for every command that runs the frame pipeline (export, serve, fleet). */
export const pipelineSchema = z.object({
  every: z.number().int().min(1).max(10000).default(1).describe('explain every n-th frame, reuse the last maps in between'),
  smooth: z.number().min(0).max(0.99).default(0).describe('exponential smoothing of maps over time, 0 (off) .. 1'),
});

export const IMAGE_FORMATS = ['jpeg', 'webp'] as const;

/** How the dashboard streams: the frames' encoding and the playback of the source (`serve`'s flags). */
export const streamSchema = z.object({
  format: z.enum(IMAGE_FORMATS).default('jpeg').describe('image format of the streamed frames'),
  quality: z.number().int().min(1).max(100).default(80).describe('quality of the streamed frames, 1..100'),
  loop: z.boolean().default(false).describe('start with looping on (recorded sources)'),
  /** Left out: the source's own frame rate (a live source: no limit). */
  maxFps: z.number().min(0).max(1000).optional().describe('process at most this many frames a second (default: the source frame rate; 0 = no limit)'),
});

/** Integrated Gradients: the pixel-level reference an audit may compare the CAMs with. */
export const IG = 'ig';
export type AuditMethod = CamMethodName | typeof IG;
export const AUDIT_METHODS = [...CAM_METHODS, IG] as [AuditMethod, ...AuditMethod[]];
const DEFAULT_AUDIT_METHOD_LIST: AuditMethod[] = [...METHODS_AUDITED_BY_DEFAULT];
export const PERTURB_BASELINES = ['blur', 'mean', 'black', 'road'] as const;
export const IG_BASELINES = ['blur', 'black'] as const;

/**
 * The audit's own settings (`saliencam audit`'s flags, a fleet job's audit part), with defaults and bounds;
 * what to explain (classes, score, method parameters) is the explain schema's. `.describe()` is the flag's help.
 */
export const auditSchema = z.object({
  every: z.number().int().min(1).max(1e6).default(10).describe('audit every N-th frame'),
  start: z.number().min(0).max(1e7).optional().describe('seconds into the source to start at'),
  duration: z.number().min(0.001).max(1e7).optional().describe('seconds to audit from the start'),
  maxFrames: z.number().int().min(1).max(1e7).optional().describe('stop after N sampled frames'),
  budget: z.number().min(1).max(1e7).optional().describe('seconds to spend: frames spread over the whole drive, stop when spent'),
  methods: z
    .array(z.enum(AUDIT_METHODS))
    .min(1, 'the audit needs at least one method')
    .refine((m) => new Set(m).size === m.length, { message: 'a method is listed twice' })
    .default(() => [...DEFAULT_AUDIT_METHOD_LIST])
    .describe(`comma-separated: ${DEFAULT_AUDIT_METHOD_LIST.join(',')} (default), polycam, ig`),
  steps: z.number().int().min(2).max(1000).default(10).describe('deletion/insertion steps (curves have n + 1 points)'),
  samples: z.number().int().min(0).max(1000).default(8).describe('max-sensitivity: noisy copies per map (0 = skip the metric)'),
  radius: z.number().min(0).max(1).default(0.02).describe('max-sensitivity: noise radius as a share of 0-255'),
  baseline: z.enum(PERTURB_BASELINES).default('blur').describe('what deleted pixels become / insertion starts from'),
  randomMaps: z.number().int().min(1).max(100).default(3).describe('random maps per detection for the baseline row'),
  igSteps: z.number().int().min(1).max(1000).default(50).describe('Integrated Gradients path steps (method ig)'),
  igBaseline: z.enum(IG_BASELINES).default('blur').describe('Integrated Gradients baseline image'),
  gallery: z.number().int().min(0).max(200).default(12).describe('worst-frame thumbnails in the report'),
  maps: z.enum(['class', 'detection']).default('class').describe('audit each class map (what explain shows by default; one perturbation serves the whole class) or each detection map'),
  sanity: z.boolean().default(false).describe('model-parameter randomisation test: randomise the layers after the CAM layer, compare the maps'),
});

export type AuditOptions = z.infer<typeof auditSchema>;
export const DEFAULT_AUDIT: AuditOptions = auditSchema.parse({});

/**
 * Everything an audit run takes (runAudit): the audit's settings and what to explain, in one schema parsed once
 * at each edge (`saliencam audit`'s flags, a fleet job) and passed inward as AuditRun.
 */
export const auditRunSchema = auditSchema.extend({
  ...explainSchema.pick({ classes: true, minScore: true, methodParams: true }).shape,
  title: z.string().max(500).optional(),
  /** Source name shown in the report (default: the file name). */
  sourceLabel: z.string().max(500).optional(),
});
export type AuditRun = z.infer<typeof auditRunSchema>;
export const DEFAULT_AUDIT_METHODS: readonly AuditMethod[] = DEFAULT_AUDIT.methods;

/** A schema's fields without their defaults, every one required: data that must be complete (a fleet job). */
export function withoutDefaults<S extends z.ZodRawShape>(shape: S): { [K in keyof S]: S[K] extends z.ZodDefault<infer T> ? T : S[K] } {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v instanceof z.ZodDefault ? v.unwrap() : v])) as never;
}

type Changes<S extends z.ZodRawShape> = { [K in keyof S]: z.ZodOptional<S[K] extends z.ZodDefault<infer T> ? T : S[K]> };

/** Every setting optional and without its default: a change to some settings (the WebSocket `set`). */
export function changesOf<S extends z.ZodRawShape>(shape: S): Changes<S> {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, ((v instanceof z.ZodDefault ? v.unwrap() : v) as z.ZodType).optional()])) as unknown as Changes<S>;
}

export type ColormapName = (typeof COLORMAPS)[number];
export type ExplainOptions = z.infer<typeof explainSchema>;
export type RenderOptions = z.infer<typeof renderSchema>;
export type DashboardSettings = z.infer<typeof dashboardSchema>;
export type PipelineSettings = z.infer<typeof pipelineSchema>;
export type StreamSettings = z.infer<typeof streamSchema>;

export const DEFAULT_EXPLAIN: ExplainOptions = explainSchema.parse({});
export const DEFAULT_RENDER: RenderOptions = renderSchema.parse({});
export const DEFAULT_DASHBOARD: DashboardSettings = dashboardSchema.parse({});

/** The flag spelling of a setting (`minScore` → `--min-score`). */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The flag of a method's parameter: the method's name, then the parameter's (`polycam`, `variant` → `--polycam-variant`). */
export function methodParamFlag(method: string, param: string): string {
  return `--${method.replace(/[^a-z0-9]+/gi, '')}${flagName(param).slice(1)}`;
}

/** The key a method's parameter has as a flag attribute and in flat records (`polycam`, `variant` → `polycamVariant`). */
export function methodParamKey(method: string, param: string): string {
  return methodParamFlag(method, param).slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The flag a setting's path is given by: method parameters go by their own flags (`methodParams.polycam.variant` → `--polycam-variant`). */
export function flagOfPath(path: readonly PropertyKey[]): string {
  const keys = path.map(String);
  if (keys[0] === 'methodParams' && keys.length >= 3) return methodParamFlag(keys[1]!, keys[2]!);
  // An item of a list is reported as the list's flag (`methods.1` → `--methods`).
  return flagName(keys.filter((k) => !/^\d+$/.test(k)).join('.'));
}

/** One line for the first problem zod found, naming the setting as a flag: `--alpha: too big: expected ≤1`. */
export function settingsIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue?.path ?? [];
  return `${path.length ? `${flagOfPath(path)}: ` : ''}${issue?.message ?? 'invalid setting'}`;
}

/** Parses settings, or throws the one-line message of their first problem (`--steps: Too small: ...`) as `fail` makes it. */
export function parseSettings<T extends z.ZodType>(schema: T, value: unknown, fail: (message: string) => Error): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw fail(settingsIssue(r.error));
  return r.data;
}

/** A setting's own type, under its default and optional wrappers (what a flag's form follows). */
export function innerOf(s: z.ZodType): z.ZodType {
  let n = s;
  while (n instanceof z.ZodDefault || n instanceof z.ZodOptional) n = n.unwrap() as z.ZodType;
  return n;
}

/** The bounds of a numeric setting, for parsers that check before zod sees the value. */
export function boundsOf(s: z.ZodType): { min: number; max: number; integer: boolean } {
  const n = innerOf(s);
  if (!(n instanceof z.ZodNumber)) throw new Error('boundsOf: not a number setting');
  return { min: n.minValue ?? -Infinity, max: n.maxValue ?? Infinity, integer: n.isInt };
}

/** What `hello` tells a dashboard about each method's parameters: enough to offer them (choices or bounds, default). */
export interface MethodParamInfo {
  description?: string;
  default: string | number | boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

export function methodParamInfo(): Record<string, Record<string, MethodParamInfo>> {
  return Object.fromEntries(
    paramEntries.map(([method, p]) => {
      const defaults = p.parse({}) as Record<string, string | number | boolean>;
      const params = Object.entries(p.shape).map(([key, field]) => {
        const inner = innerOf(field as z.ZodType);
        const info: MethodParamInfo = { default: defaults[key]!, ...(field.description ? { description: field.description } : {}) };
        if (inner instanceof z.ZodEnum) info.choices = inner.options as string[];
        if (inner instanceof z.ZodNumber) Object.assign(info, { min: inner.minValue ?? undefined, max: inner.maxValue ?? undefined });
        return [key, info];
      });
      return [method, Object.fromEntries(params)];
    }),
  );
}
