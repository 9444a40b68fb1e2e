// CenterNet's gradient shortcut (model/centernet-adjoint.ts: gradient sums from the head's transposed linear
// structure, offered as Detector.gradientShortcut) against the backward pass it replaces, on real frames: the same
// maps and the same pointing hits. The engines' gradient counts prove the shortcut ran (no backward pass at all).
// The full sweep (every still, every frame of the drive, four methods) is scripts/exactness.mjs.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareFrame, summarise } from '../src/bench/exactness.js';
import { Engine } from '../src/engine.js';
import type { Frame } from '../src/types.js';
import { openDecoder } from '../src/video/index.js';
import { clipPath } from './helpers/clips.js';
import { STILLS, stillFrame } from './helpers/frames.js';

let fast: Engine;
let full: Engine;
beforeAll(async () => {
  fast = await Engine.create({ backend: 'wasm', gradients: 'fast' });
  full = await Engine.create({ backend: 'wasm', gradients: 'full' });
});
afterAll(() => {
  fast?.dispose();
  full?.dispose();
});

async function videoFrames(picks: number[]): Promise<Frame[]> {
  const d = await openDecoder(clipPath('test_video.mp4'));
  const out: Frame[] = [];
  let i = 0;
  for await (const f of d) {
    if (picks.includes(i)) out.push(f);
    if (++i > Math.max(...picks)) break;
  }
  await d.close();
  return out;
}

describe('fast gradient sums (CenterNet head adjoint)', () => {
  it('matches the graph at the head layers it claims, and declines the others', () => {
    const d = fast.detector;
    const find = (layer: string) => {
      const s = d.gradientShortcut!(layer);
      s?.dispose();
      return s;
    };
    for (const layer of [d.camLayer, ...d.polyLayers.slice(1)]) expect(find(layer), layer).toBeDefined();
    expect(find('tower_0/CenternetHead/Relu')).toBeUndefined(); // its path to the score has a second resize stage
    expect(find('tower_0/extern1/hard_swish/mul_1')).toBeUndefined();
  });

  it('XGrad-CAM and Grad-CAM maps equal the backward pass on the stills and video frames, per class and per detection', async () => {
    const frames: [string, Frame][] = [];
    for (const s of STILLS) frames.push([s, await stillFrame(s)]);
    (await videoFrames([0, 37])).forEach((f, i) => frames.push([`video#${[0, 37][i]}`, f]));
    const rows = [];
    const [fast0, full0] = [{ ...fast.gradientCounts }, { ...full.gradientCounts }];
    for (const [name, f] of frames) rows.push(...(await compareFrame(fast, full, f, name, ['xgradcam', 'gradcam'])));
    // The fast engine took the shortcut for every map set and never ran a backward pass; the full one the reverse.
    expect(fast.gradientCounts.backward - fast0.backward).toBe(0);
    const explained = new Set(rows.map((r) => `${r.frame} ${r.method} ${r.perDetection}`)).size; // one call each
    expect(fast.gradientCounts.shortcut - fast0.shortcut).toBe(explained);
    expect(full.gradientCounts.shortcut - full0.shortcut).toBe(0);
    expect(full.gradientCounts.backward - full0.backward).toBeGreaterThan(0);
    const s = summarise(rows);
    console.log(`fast vs full: ${s.maps} maps, min Pearson ${s.minPearson}, max |diff| ${s.maxAbsDiff}, pointing mismatches ${s.hitMismatches}`);
    expect(s.maps).toBeGreaterThan(40);
    expect(new Set(rows.map((r) => r.frame)).size).toBe(frames.length);
    expect(s.minPearson).toBeGreaterThanOrEqual(0.999);
    expect(s.maxAbsDiff).toBeLessThan(1e-3);
    expect(s.hitMismatches).toBe(0);
  }, 600_000);

  it('also at the mul and Relu_2 layers (the gate-free and gate-side cases)', async () => {
    const f = await stillFrame('test1.jpg');
    for (const layer of ['tower_0/CenternetHead/mul', 'tower_0/CenternetHead/Relu_2']) {
      const a = await Engine.create({ backend: 'wasm', layer, gradients: 'fast' });
      const b = await Engine.create({ backend: 'wasm', layer, gradients: 'full' });
      try {
        const s = summarise(await compareFrame(a, b, f, 'test1.jpg', ['xgradcam', 'gradcam']));
        expect(a.gradientCounts, layer).toMatchObject({ backward: 0 });
        expect(a.gradientCounts.shortcut, layer).toBeGreaterThan(0);
        expect(s.maps).toBeGreaterThan(4);
        expect(s.minPearson, layer).toBeGreaterThanOrEqual(0.999);
        expect(s.hitMismatches).toBe(0);
      } finally {
        a.dispose();
        b.dispose();
      }
    }
  }, 300_000);

  it('frees every tensor it makes', async () => {
    const f = await stillFrame('test2.jpg');
    for (const method of ['xgradcam', 'gradcam'] as const) await fast.explain(f, { method, perDetection: true }); // caches filled
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) for (const method of ['xgradcam', 'gradcam'] as const) await fast.explain(f, { method, perDetection: i % 2 === 0 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
