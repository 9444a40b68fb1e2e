// The worker pool explains exactly what the in-process engine does: frames reach the workers through shared
// slots (grown for a larger frame, never overwritten while a worker is on one), and the caller's frame is
// left as it was.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { createExplainer } from '../src/explain/create.js';
import type { ExplainedFrame, Explainer, Frame } from '../src/types.js';
import { clipPath } from './helpers/clips.js';
import { stillFrame } from './helpers/frames.js';

let engine: Engine;
let pool: Explainer;
beforeAll(async () => {
  engine = await Engine.create({ backend: 'wasm' });
  pool = await createExplainer({ backend: 'wasm', workers: 1 });
});
afterAll(() => {
  engine?.dispose();
  pool?.dispose();
});

async function smallFrame(name: string): Promise<Frame> {
  const { data, info } = await sharp(clipPath(name)).removeAlpha().resize(640, 360).raw().toBuffer({ resolveWithObject: true });
  return { index: 1, time: 0.04, width: info.width, height: info.height, rgb: new Uint8Array(data) };
}

function comparable(r: ExplainedFrame) {
  return { detections: r.detections, maps: r.maps.map((m) => ({ ...m, data: Array.from(m.data) })), saliency: r.record.saliency };
}

describe('the worker pool', () => {
  it('gives the in-process results, frame sizes changing and several frames queued at once', async () => {
    // Small first, so the slot has to grow for the 720p frames; the last small one reuses the grown slot.
    const frames = [await smallFrame('test2.jpg'), await stillFrame('test1.jpg'), await stillFrame('test3.jpg'), await smallFrame('test6.jpg')];
    const before = frames.map((f) => Buffer.from(f.rgb));
    expect(frames[0]!.width).toBe(640);
    expect(frames[1]!.width).toBe(1280);
    // All at once: one worker takes them one by one, each from the slot the previous one used.
    const fromPool = await Promise.all(frames.map((f, i) => pool.explain(f, { perDetection: true })));
    for (const [i, f] of frames.entries()) {
      const inProcess = await engine.explain(f, { perDetection: true });
      expect(fromPool[i]!.detections.length).toBeGreaterThan(0);
      expect(comparable(fromPool[i]!)).toEqual(comparable(inProcess));
      expect(fromPool[i]!.frame).toBe(f);
      expect(Buffer.from(f.rgb).equals(before[i]!)).toBe(true);
    }
  });
});
