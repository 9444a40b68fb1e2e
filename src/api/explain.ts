// The library entry's implementation: explain images from code, with the CLI's options and its JSON record.
// Options are the settings schema's explain fields (src/settings.ts) plus which model and backend to load:
// the same names as the CLI flags (`minScore` ↔ `--min-score`), checked by the same schema.
import { basename } from 'node:path';
import type { z } from 'zod';
import type { EngineOptions } from '../engine.js';
import { UserError } from '../errors.js';
import { createExplainer as createInternal } from '../explain/create.js';
import { readImageFrame } from '../cli/image-input.js';
import { firstRecordingFrame } from '../cli/topic.js';
import { isRecordingInput } from '../recording/input-name.js';
import { explainSchema, parseSettings } from '../settings.js';
import type { CamMethodName, ExplainRecord, Frame } from '../types.js';
import { publicMap, type ExplanationMap } from './maps.js';

/** Which model to load and where to run it (the CLI's --model, --adapter, --backend, --layer, --workers, …). */
export type ModelOptions = Pick<EngineOptions, 'model' | 'adapter' | 'names' | 'backend' | 'layer' | 'batching' | 'gradients' | 'workers' | 'warn'>;
/** What to explain: the settings schema's explain fields, each optional (defaults as the CLI's). */
export type ExplainSettings = z.input<typeof explainSchema>;
export type ExplainerOptions = ModelOptions & ExplainSettings;

/** Packed RGB, 8 bits per channel, row-major: width · height · 3 bytes. */
export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** A still image's path (jpg, png, webp, …; an .mcap gives its first camera frame), or packed RGB. */
export type ImageInput = string | RgbImage;

export interface Explanation {
  /** The `explain --json` record: detections, per-map statistics, timing. */
  record: ExplainRecord;
  /** One map per explained class (or detection, with `perDetection`), in the record's `saliency` order. */
  maps: ExplanationMap[];
}

export interface Explainer {
  readonly model: string;
  readonly backend: string;
  /** Every class the model knows (valid `classes` entries). */
  readonly classNames: readonly string[];
  /** The CAM methods this model can run. */
  readonly methods: readonly CamMethodName[];
  /** Explain one image; `settings` change this call's explain settings only. */
  explain(input: ImageInput, settings?: ExplainSettings): Promise<Explanation>;
  /** Frees the model and its worker threads; the explainer cannot be used afterwards. */
  dispose(): void;
}

const MODEL_KEYS = new Set<string>(['model', 'adapter', 'names', 'backend', 'layer', 'batching', 'gradients', 'workers', 'warn']);

function splitOptions(options: ExplainerOptions): { model: ModelOptions; settings: Record<string, unknown> } {
  const model: Record<string, unknown> = {};
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) (MODEL_KEYS.has(k) ? model : settings)[k] = v;
  return { model: model as ModelOptions, settings };
}

/** Checked by the settings schema (unknown keys refused): a UserError naming the setting as its CLI flag. */
function checkSettings(settings: Record<string, unknown>): Partial<z.output<typeof explainSchema>> {
  const parsed = parseSettings(explainSchema.strict(), settings, (m) => new UserError(m));
  // Only the keys given: the rest stay the explainer's defaults.
  return Object.fromEntries(Object.keys(settings).map((k) => [k, parsed[k as keyof typeof parsed]]));
}

async function frameOf(input: ImageInput): Promise<{ frame: Frame; source: string }> {
  if (typeof input === 'string') {
    const frame = isRecordingInput(input) ? await firstRecordingFrame(input) : await readImageFrame(input);
    return { frame, source: basename(input) };
  }
  const { rgb, width, height } = input ?? ({} as RgbImage);
  if (!(rgb instanceof Uint8Array)) throw new UserError('input: expected a path or { rgb: Uint8Array, width, height }');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new UserError(`input: ${width}x${height} is not an image size`);
  if (rgb.length !== width * height * 3) throw new UserError(`input: ${rgb.length} bytes for ${width}x${height} RGB (expected ${width * height * 3})`);
  return { frame: { index: 0, time: 0, width, height, rgb }, source: '' };
}

/** An explainer for many images: the model is loaded once. Call `dispose()` when done. */
export async function createExplainer(options: ExplainerOptions = {}): Promise<Explainer> {
  const { model, settings } = splitOptions(options);
  const defaults = checkSettings(settings);
  const inner = await createInternal({ workers: 0, ...model, defaults });
  return {
    model: inner.model,
    backend: inner.backend,
    classNames: inner.classNames,
    methods: inner.methods,
    async explain(input, overrides = {}) {
      const { frame, source } = await frameOf(input);
      const ex = await inner.explain(frame, checkSettings(overrides as Record<string, unknown>));
      return { record: { ...ex.record, source }, maps: ex.maps.map(publicMap) };
    },
    dispose: () => inner.dispose(),
  };
}

/** Explain one image: loads the model, explains, frees the model. */
export async function explainImage(input: ImageInput, options: ExplainerOptions = {}): Promise<Explanation> {
  const explainer = await createExplainer(options);
  try {
    return await explainer.explain(input);
  } finally {
    explainer.dispose();
  }
}
