// The pipeline's stages as small pipeable operators with typed values in and out:
//   Frame ─explainFrames─► ExplainedFrame ─smoothMaps─► ExplainedFrame ─renderFrames─► RenderedFrame
// Each stage works on one value at a time (concatMap), so stages overlap in time but none runs ahead.
// A stage with state creates it inside `defer`, so every subscription (the live pipeline re-subscribes on each
// seek and loop) starts with its own.
import { concatMap, defer, map, type OperatorFunction } from 'rxjs';
import { renderFrame } from '../render/index.js';
import type { ExplainedFrame, ExplainOptions, Frame, Explainer, RenderedFrame, RenderOptions, SaliencyMap } from '../types.js';

export interface ExplainStageOptions {
  overrides?: Partial<ExplainOptions>;
  /** Explain every n-th frame; frames in between reuse the last result (detections and maps). */
  every?: number;
  /** Put in each record's `source`: the records' provenance (source, frame, time) is stamped here only. */
  source?: string;
  /** Aborting cancels the frames not yet explained (the live pipeline's seek). */
  signal?: AbortSignal;
}

/**
 * Work starts as soon as a frame arrives (so a worker pool explains several frames at once, bounded by the
 * pipeline's credit window) and results are emitted in frame order.
 */
export function explainFrames(explainer: Explainer, o: ExplainStageOptions = {}): OperatorFunction<Frame, ExplainedFrame> {
  const every = Math.max(1, o.every ?? 1);
  const source = o.source ?? '';
  return (frames$) =>
    defer(() => {
      let last: Promise<ExplainedFrame> | undefined;
      let seen = 0;
      return frames$.pipe(
        map((frame) => {
          const fresh = seen++ % every === 0;
          let result: Promise<ExplainedFrame>;
          if (fresh || !last) {
            last = explainer.explain(frame, o.overrides, o.signal);
            result = last.then((e) => stamped(e, frame, source));
          } else {
            // Reused result: the detections and maps of the last explained frame, on this frame's pixels.
            result = last.then((e) => stamped({ ...e, record: { ...e.record, timing: { detectMs: 0, saliencyMs: 0, totalMs: 0 } } }, frame, source));
          }
          // Queued promises are awaited in order by concatMap; until then a failure must not count as unhandled.
          result.catch(() => undefined);
          return result;
        }),
        concatMap((result) => result),
      );
    });
}

/** The explanation on `frame`, its record stamped with where it comes from. */
function stamped(e: ExplainedFrame, frame: Frame, source: string): ExplainedFrame {
  return { ...e, frame, record: { ...e.record, source, frame: frame.index, time: round3(frame.time) } };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/**
 * Exponential smoothing of each class's map over time (m ← a·m_prev + (1−a)·m), so heatmaps do not flicker.
 * Keyed by label (and detection index in per-detection mode); a map absent from a frame forgets its history.
 * The record's statistics stay those of the unsmoothed maps: they describe the detector, not the display.
 */
export function smoothMaps(alpha: number): OperatorFunction<ExplainedFrame, ExplainedFrame> {
  if (!(alpha > 0)) return map((e) => e);
  return (frames$) =>
    defer(() => {
      let history = new Map<string, SaliencyMap>();
      return frames$.pipe(
        map((e) => {
          const next = new Map<string, SaliencyMap>();
          const maps = e.maps.map((m) => {
            const key = `${m.label}#${m.detectionIndex ?? ''}#${m.region?.join(',') ?? ''}#${m.versus ?? ''}`;
            const prev = history.get(key);
            let out = m;
            if (prev && prev.width === m.width && prev.height === m.height) {
              const data = new Float32Array(m.data.length);
              for (let i = 0; i < data.length; i++) data[i] = alpha * prev.data[i]! + (1 - alpha) * m.data[i]!;
              out = { ...m, data };
            }
            next.set(key, out);
            return out;
          });
          history = next;
          return { ...e, maps };
        }),
      );
    });
}

/** `opts` may be a function, read once per frame (the dashboard changes colours while playing). */
export function renderFrames(opts: RenderOptions | (() => RenderOptions)): OperatorFunction<ExplainedFrame, RenderedFrame> {
  return concatMap((e) => renderFrame(e, typeof opts === 'function' ? opts() : opts));
}
