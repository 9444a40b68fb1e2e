// The one settings schema: what to explain and how to draw it, with defaults and bounds. The CLI flags'
// choices and bounds, the WebSocket `set` command, the engine's checks, `hello`'s lists and the web app's
// types (z.infer) all come from here, so a bad value gets the same one-line message wherever it is given.
import { z } from 'zod';
import { CAM_METHODS, type CamMethodName } from './saliency/methods/index.js';

// The method names are the registry's keys (a new method is its file plus its registry row, nothing here).
export { CAM_METHODS, type CamMethodName };
export const COLORMAPS = ['turbo', 'jet', 'viridis', 'inferno'] as const;
export const POLYCAM_VARIANTS = ['plus', 'minus', 'pm'] as const;
export const VIEWS = ['blend', 'grid'] as const;

/** A class label (checked against the model's list where the model is known). */
const className = z.string().min(1).max(64);

export const explainSchema = z.object({
  method: z.enum(CAM_METHODS).default('xgradcam'),
  /** Class labels to explain; empty = every detected class. */
  classes: z.array(className).max(1000).default([]),
  /** Detections below this score are dropped (and not explained). */
  minScore: z.number().min(0).max(1).default(0.3),
  /** One map per detection instead of one per class. */
  perDetection: z.boolean().default(false),
  /** PolyCAM variant (`polycam` only). */
  polycamVariant: z.enum(POLYCAM_VARIANTS).default('plus'),
  /** Explain at most this many targets, highest-scoring first (benchmarks; default unlimited). */
  maxTargets: z.number().int().min(0).optional(),
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
});

/** What a dashboard viewer may change (the `set` command); applies to the next frame or the paused one. */
export const dashboardSchema = z.object({
  ...explainSchema.pick({ method: true, perDetection: true }).shape,
  ...renderSchema.pick({ colormap: true, alpha: true, view: true, boxes: true }).shape,
  /** Classes neither shown nor explained (empty = every class). */
  hiddenClasses: z.array(className).max(1000).default([]),
});

type Changes<S extends z.ZodRawShape> = { [K in keyof S]: z.ZodOptional<S[K] extends z.ZodDefault<infer T> ? T : S[K]> };

/** Every setting optional and without its default: a change to some settings (the WebSocket `set`). */
export function changesOf<S extends z.ZodRawShape>(shape: S): Changes<S> {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, ((v instanceof z.ZodDefault ? v.unwrap() : v) as z.ZodType).optional()])) as unknown as Changes<S>;
}

export type ColormapName = (typeof COLORMAPS)[number];
export type ExplainOptions = z.infer<typeof explainSchema>;
export type RenderOptions = z.infer<typeof renderSchema>;
export type DashboardSettings = z.infer<typeof dashboardSchema>;

export const DEFAULT_EXPLAIN: ExplainOptions = explainSchema.parse({});
export const DEFAULT_RENDER: RenderOptions = renderSchema.parse({});
export const DEFAULT_DASHBOARD: DashboardSettings = dashboardSchema.parse({});

/** The flag spelling of a setting (`minScore` → `--min-score`). */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** One line for the first problem zod found, naming the setting as a flag: `--alpha: too big: expected ≤1`. */
export function settingsIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const key = issue?.path.map(String).join('.') ?? '';
  return `${key ? `${flagName(key)}: ` : ''}${issue?.message ?? 'invalid setting'}`;
}

/** The bounds of a numeric setting, for parsers that check before zod sees the value. */
export function boundsOf(s: z.ZodNumber | z.ZodDefault<z.ZodNumber>): { min: number; max: number } {
  const n = (s instanceof z.ZodDefault ? s.unwrap() : s) as z.ZodNumber;
  return { min: n.minValue ?? -Infinity, max: n.maxValue ?? Infinity };
}
