// The dashboard's settings explainer implements `Explainer` honestly: options given to `explain` apply over the
// dashboard's settings of the moment (as they apply over an engine's defaults), not ignored.
import { describe, expect, it } from 'vitest';
import { settingsExplainer } from '../src/server/live-explainer.js';
import { DEFAULT_DASHBOARD } from '../src/settings.js';
import type { ExplainedFrame, ExplainOptions, Explainer, Frame } from '../src/types.js';

function recordingExplainer(): Explainer & { seen: Partial<ExplainOptions>[] } {
  const seen: Partial<ExplainOptions>[] = [];
  return {
    backend: 'test', model: 'test', classNames: ['car', 'bus'], methods: ['gradcam', 'xgradcam'], concurrency: 1, seen,
    async explain(frame: Frame, options: Partial<ExplainOptions> = {}) {
      seen.push(options);
      return { frame, detections: [], maps: [], record: { source: '', width: frame.width, height: frame.height } } as unknown as ExplainedFrame;
    },
    async warmUp() { return 0; },
    async dispose() {},
  } as unknown as Explainer & { seen: Partial<ExplainOptions>[] };
}

const frame: Frame = { index: 0, time: 0, width: 2, height: 1, rgb: new Uint8Array(6) };

describe('settingsExplainer', () => {
  it('explains with the settings of the moment, and with the options given to explain over them', async () => {
    const inner = recordingExplainer();
    let settings = { ...DEFAULT_DASHBOARD, method: 'gradcam' as const };
    const e = settingsExplainer(inner, { get: () => settings, fellBack: () => undefined });
    await e.explain(frame);
    expect(inner.seen[0]).toMatchObject({ method: 'gradcam', perDetection: false });
    settings = { ...settings, perDetection: true };
    await e.explain(frame, { method: 'xgradcam', minScore: 0.5 });
    expect(inner.seen[1]).toMatchObject({ method: 'xgradcam', minScore: 0.5, perDetection: true });
  });
});
