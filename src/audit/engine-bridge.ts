// Adapts an auditable explainer (types.ts: explain + batched detection + a score function) to the audit's
// small function types: a batch detector for the perturbation metrics, a re-explainer for max-sensitivity,
// and Integrated Gradients maps for one detection. Nothing here knows how the engine is built.
import * as tf from '@tensorflow/tfjs-core';
import type { AuditableExplainer, Box, CamMethodName, Detection, ExplainOptions, Frame, SaliencyMap, ScoredDetection } from '../types.js';
import { attributionToMap } from './attribution-map.js';
import { iou } from './box.js';
import { integratedGradients, type BatchScore } from './ig.js';
import type { Explain } from './types.js';

/** Thrown from inside a long computation when the run's AbortSignal fires. */
export class AuditAborted extends Error {
  constructor() {
    super('audit interrupted');
    this.name = 'AuditAborted';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AuditAborted();
}

/**
 * Lets timers and signal handlers run, then checks the signal. On WASM/CPU, `data()` resolves as a microtask,
 * so a detection's hundreds of detector runs would otherwise never give the event loop a turn (Ctrl-C, progress).
 */
export async function checkpoint(signal?: AbortSignal): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  throwIfAborted(signal);
}

/** engine.detectBatch in chunks the model accepts, with a low score threshold (see detectionScorer). */
export function engineDetectBatch(engine: AuditableExplainer, minScore: number, signal?: AbortSignal): (images: Uint8Array[], width: number, height: number) => Promise<ScoredDetection[][]> {
  // The built-in graphs take one image per forward pass: batches are fed in chunks the model accepts.
  const limit = engine.batchLimit;
  return async (images, width, height) => {
    const out: ScoredDetection[][] = [];
    for (let i = 0; i < images.length; i += Math.min(limit, images.length)) {
      await checkpoint(signal);
      out.push(...(await engine.detectBatch(images.slice(i, i + limit), width, height, minScore)));
    }
    return out;
  };
}

/** Index of the same-class detection overlapping `box` most (IoU > minIou), or -1. */
export function matchDetection(list: readonly Detection[], target: { classId: number; box: Box }, minIou = 0.5): number {
  let best = -1;
  let bestIou = minIou;
  list.forEach((d, i) => {
    if (d.classId !== target.classId) return;
    const o = iou(d.box, target.box);
    if (o > bestIou) {
      bestIou = o;
      best = i;
    }
  });
  return best;
}

/**
 * Max-sensitivity's explainer for one detection: re-explains the noisy copy (same method, that class only,
 * a lower threshold so a slightly weaker detection still gets its map) and returns the map of the matching
 * detection. When the detection is gone the map is all zeros: a relative change of 1, "the explanation vanished".
 */
export function detectionExplainer(
  engine: AuditableExplainer,
  method: CamMethodName,
  target: Detection,
  options: Pick<ExplainOptions, 'minScore' | 'methodParams'>,
  mapSize: { width: number; height: number },
  frame: Pick<Frame, 'index' | 'time'>,
  signal?: AbortSignal,
): Explain {
  const minScore = Math.max(0.05, 0.5 * Math.min(options.minScore, target.score));
  return async (rgb, width, height) => {
    await checkpoint(signal);
    const ex = await engine.explain(
      { index: frame.index, time: frame.time, width, height, rgb },
      { method, perDetection: true, classes: [target.label], minScore, methodParams: options.methodParams },
    );
    const j = matchDetection(ex.detections, target);
    const map = ex.maps.find((m) => m.detectionIndex === j);
    if (j < 0 || !map) return new Float32Array(mapSize.width * mapSize.height);
    if (map.width !== mapSize.width || map.height !== mapSize.height) throw new Error(`audit: ${method} map size changed under noise`);
    return map.data;
  };
}

/** Runs a batch score row by row when the model takes one image at a time (rows never interact). */
function rowwise(f: BatchScore, limit: number, signal?: AbortSignal): BatchScore {
  return (x) => {
    throwIfAborted(signal);
    const n = x.shape[0];
    if (n <= limit) return f(x);
    const rows = tf.split(x, n);
    return tf.concat(rows.map((r) => f(r as tf.Tensor4D))) as tf.Tensor1D;
  };
}

export interface IgMapOptions {
  steps: number;
  baseline: 'blur' | 'black';
  blurSigma?: number;
  /** Map size: the CAMs' size, so every method is ordered at the same granularity. */
  width?: number;
  height?: number;
  signal?: AbortSignal;
}

/** Integrated Gradients for one detection's pre-activation score, pooled into a saliency map. */
export async function igMap(
  engine: AuditableExplainer,
  frame: Frame,
  target: ScoredDetection,
  options: IgMapOptions,
): Promise<{ map: SaliencyMap; completenessError: number }> {
  const input = tf.tidy(() => tf.cast(tf.tensor4d(frame.rgb, [1, frame.height, frame.width, 3], 'int32'), 'float32') as tf.Tensor4D);
  try {
    const f = rowwise(engine.scoreFunction(target.scoreIndices), engine.batchLimit, options.signal);
    const r = await integratedGradients(f, input, options.baseline, {
      steps: options.steps,
      // Path images per gradient call: bounds memory (each holds a full forward graph of the frame).
      batchSize: 4,
      ...(options.blurSigma !== undefined ? { blurSigma: options.blurSigma } : {}),
    });
    const map = attributionToMap(r.attribution, r.width, r.height, {
      label: target.label,
      classId: target.classId,
      ...(options.width && options.height ? { width: options.width, height: options.height } : {}),
    });
    return { map, completenessError: r.completenessError };
  } finally {
    input.dispose();
  }
}
