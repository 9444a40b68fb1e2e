// The pipeline's operators keep their state per subscription: one built operator, subscribed twice (the live
// pipeline re-subscribes on every seek and loop), must not let one stream's frames leak into the other's.
import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { explainFrames, smoothMaps } from '../src/pipeline/operators.js';
import type { ExplainedFrame, Explainer, Frame, SaliencyMap } from '../src/types.js';

function frame(index: number): Frame {
  return { index, time: index / 10, width: 2, height: 1, rgb: new Uint8Array(6).fill(index) };
}

/** An explainer whose answer names the frame it was asked about (its detection's score is the frame index). */
function countingExplainer(): Explainer & { calls: number[] } {
  const calls: number[] = [];
  return {
    backend: 'test', model: 'test', classNames: ['car'], methods: ['gradcam'], concurrency: 1, calls,
    async explain(f: Frame): Promise<ExplainedFrame> {
      calls.push(f.index);
      const detections = [{ label: 'car', classIndex: 0, score: f.index, box: [0, 0, 1, 1] as [number, number, number, number] }];
      return {
        frame: f, detections, maps: [],
        record: { source: 's', width: 2, height: 1, model: 'test', backend: 'test', method: 'gradcam', detections, saliency: [], timing: { detectMs: 1, saliencyMs: 1, totalMs: 2 } },
      } as unknown as ExplainedFrame;
    },
    async warmUp() { return 0; },
    async dispose() {},
  } as unknown as Explainer & { calls: number[] };
}

describe('pipeline operators keep state per subscription', () => {
  it('explainFrames counts `every` from each subscription\'s first frame and never reuses another stream\'s result', async () => {
    const explainer = countingExplainer();
    const op = explainFrames(explainer, { every: 2 });
    const run = async () => (await lastValueFrom(from([0, 1, 2].map(frame)).pipe(op, toArray()))).map((e) => e.detections[0]!.score);
    expect(await run()).toEqual([0, 0, 2]);
    // A second stream (a seek) starts afresh: its first frame is explained, not the first stream's frame 2 reused.
    expect(await run()).toEqual([0, 0, 2]);
    expect(explainer.calls).toEqual([0, 2, 0, 2]);
  });

  it('explainFrames stamps each record with its source, frame and time (reused results too)', async () => {
    const op = explainFrames(countingExplainer(), { every: 2, source: 'drive.mp4' });
    const out = await lastValueFrom(from([0, 1].map(frame)).pipe(op, toArray()));
    expect(out.map((e) => [e.record.source, e.record.frame, e.record.time, e.frame.index])).toEqual([
      ['drive.mp4', 0, 0, 0],
      ['drive.mp4', 1, 0.1, 1],
    ]);
  });

  it('smoothMaps starts each subscription without history', async () => {
    const map = (v: number): SaliencyMap => ({ label: 'car', width: 1, height: 1, data: new Float32Array([v]) }) as unknown as SaliencyMap;
    const explained = (v: number) => ({ frame: frame(0), detections: [], maps: [map(v)], record: {} }) as unknown as ExplainedFrame;
    const op = smoothMaps(0.5);
    const run = async (values: number[]) => (await lastValueFrom(from(values.map(explained)).pipe(op, toArray()))).map((e) => e.maps[0]!.data[0]);
    expect(await run([1, 0])).toEqual([1, 0.5]);
    expect(await run([0, 0])).toEqual([0, 0]);
  });
});
