// The short soak CI runs (the README records a 10,000-frame run): 500 frames of the sample clip looped
// through decode, explain (with a why-not region and contrastive maps), smooth, render and encode, with a flat
// tensor count and < 10% RSS growth.
import { describe, expect, it } from 'vitest';
import { runSoak } from '../src/bench/soak.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';

describe('soak', () => {
  it('500 frames: tensor count flat, RSS growth under 10%', async () => {
    // With a fixed why-not region and contrastive per-detection maps: their targets must leave nothing behind either.
    const defaults = { perDetection: true, versus: 'truck', why: [{ label: 'car', box: [500, 380, 700, 500] as [number, number, number, number] }] };
    const r = await runSoak({ clip: clipPath(TEST_VIDEO), frames: 500, every: 5, engine: { backend: 'wasm', defaults }, sampleEvery: 50, log: (l) => console.log(l) });
    console.log(JSON.stringify(r));
    expect(r.frames).toBe(500);
    expect(r.tensorsEnd).toBe(r.tensorsStart);
    expect(r.rssGrowth).toBeLessThan(0.1);
    expect(r.ok).toBe(true);
  }, 1_200_000);
});
