// The dashboard's settings in front of the explainer: each frame is explained with the settings of the moment
// it enters the explain stage (method, per-detection, the classes not hidden). A setting this model cannot
// do (e.g. a method it has no layers for) falls back to the last settings that worked, with a notice, and the
// frame is explained again with those: one bad click never stops playback. Options given to `explain` apply
// over the settings of the moment, as they apply over an engine's defaults.
import { UserError, oneLine } from '../errors.js';
import type { ExplainedFrame, ExplainOptions, Explainer, Frame } from '../types.js';
import type { DashboardSettings } from './messages.js';

export interface SettingsHolder {
  /** The settings now (read once per frame). */
  get(): DashboardSettings;
  /** Called when a setting failed and `good` replaced it. */
  fellBack(good: Pick<DashboardSettings, 'method' | 'methodParams' | 'perDetection' | 'hiddenClasses' | 'why' | 'versus'>, why: string): void;
}

/** The parts of the settings that need the explainer to run again (the rest only re-render). */
export const explainKey = (s: DashboardSettings): string =>
  JSON.stringify([s.method, (s.methodParams as Record<string, unknown>)[s.method] ?? null, s.perDetection, [...s.hiddenClasses].sort(), s.why, s.versus]);

export function settingsExplainer(inner: Explainer, settings: SettingsHolder, allowedClasses: readonly string[] = []): Explainer {
  let good: DashboardSettings = settings.get();
  const optionsFor = (s: DashboardSettings): Partial<ExplainOptions> | undefined => {
    const hidden = new Set(s.hiddenClasses);
    let classes = [...allowedClasses];
    if (hidden.size) {
      classes = (allowedClasses.length ? allowedClasses : inner.classNames).filter((c) => !hidden.has(c));
      if (!classes.length) return undefined;
    }
    return { method: s.method, methodParams: s.methodParams, perDetection: s.perDetection, classes, why: s.why, versus: s.versus };
  };
  const run = (frame: Frame, s: DashboardSettings, over: Partial<ExplainOptions> | undefined, signal?: AbortSignal): Promise<ExplainedFrame> => {
    const o = optionsFor(s);
    return o ? inner.explain(frame, { ...o, ...over }, signal) : Promise.resolve(nothingShown(frame, inner, s));
  };
  return {
    get backend() {
      return inner.backend;
    },
    get model() {
      return inner.model;
    },
    get classNames() {
      return inner.classNames;
    },
    get methods() {
      return inner.methods;
    },
    get concurrency() {
      return inner.concurrency;
    },
    async explain(frame, options, signal) {
      const s = settings.get();
      try {
        const r = await run(frame, s, options, signal);
        good = s;
        return r;
      } catch (err) {
        if (!(err instanceof UserError) || explainKey(s) === explainKey(good)) throw err;
        const back = good;
        settings.fellBack(back, oneLine(err));
        return run(frame, back, options, signal);
      }
    },
    warmUp: () => inner.warmUp(),
    dispose: () => inner.dispose(),
  };
}

/** Every class hidden: the frame as it is, no model run. */
function nothingShown(frame: Frame, e: Explainer, s: DashboardSettings): ExplainedFrame {
  return {
    frame,
    detections: [],
    maps: [],
    record: {
      source: '',
      width: frame.width,
      height: frame.height,
      model: e.model,
      backend: e.backend,
      method: s.method,
      detections: [],
      saliency: [],
      timing: { detectMs: 0, saliencyMs: 0, totalMs: 0 },
    },
  };
}
