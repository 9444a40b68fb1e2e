// Several CAM methods of one frame from one forward pass (Engine.explainMethods): each method's maps equal its
// own `explain` call's, the frame goes through the model once, Grad-CAM++ takes its gradients from XPolyCAM's
// backward pass instead of a second one, and no tensor is left behind.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { METHODS_AUDITED_BY_DEFAULT } from '../src/saliency/methods/index.js';
import type { CamMethodName, Frame, SaliencyMap } from '../src/types.js';
import { stillFrame } from './helpers/frames.js';

let sequential: Engine;
// WASM's default is one backward pass per target; GPU backends batch the targets: both share the same way.
let batched: Engine;
let frame: Frame;
beforeAll(async () => {
  sequential = await Engine.create({ backend: 'wasm' });
  batched = await Engine.create({ backend: 'wasm', batching: 'batched' });
  frame = await stillFrame('test1.jpg');
}, 300_000);
afterAll(() => {
  sequential?.dispose();
  batched?.dispose();
});

const methods: readonly CamMethodName[] = METHODS_AUDITED_BY_DEFAULT;

function expectSameMaps(got: SaliencyMap[] | undefined, want: SaliencyMap[], method: string): void {
  expect(got, method).toBeDefined();
  expect(got!.map(({ data: _d, raw: _r, ...rest }) => rest)).toEqual(want.map(({ data: _d, raw: _r, ...rest }) => rest));
  got!.forEach((m, i) => {
    const w = want[i]!;
    let worst = 0;
    for (let j = 0; j < w.data.length; j++) worst = Math.max(worst, Math.abs(m.data[j]! - w.data[j]!));
    // Bit for bit in practice (the same kernels on the same tensors); 1e-6 leaves room for another backend's rounding.
    expect(worst, `${method} map ${i}: largest difference`).toBeLessThanOrEqual(1e-6);
  });
}

describe('Engine.explainMethods', () => {
  const cases = [
    { perDetection: false, mode: 'sequential' },
    { perDetection: true, mode: 'sequential' },
    { perDetection: true, mode: 'batched' },
  ] as const;
  for (const { perDetection, mode } of cases) {
    it(`gives each method its own call's maps from one forward pass, with fewer backward passes (${perDetection ? 'per detection' : 'class maps'}, ${mode})`, async () => {
      const engine = mode === 'batched' ? batched : sequential;
      const options = { perDetection, classes: ['car', 'truck'], minScore: 0.3 };
      const counts = () => ({ forwards: engine.explainForwards, backward: engine.gradientCounts.backward });
      let before = counts();
      const single = [];
      for (const method of methods) single.push(await engine.explain(frame, { ...options, method }));
      const separate = { forwards: engine.explainForwards - before.forwards, backward: engine.gradientCounts.backward - before.backward };

      before = counts();
      const all = await engine.explainMethods(frame, methods, options);
      const shared = { forwards: engine.explainForwards - before.forwards, backward: engine.gradientCounts.backward - before.backward };

      expect(single[0]!.maps.length).toBeGreaterThan(1);
      expect(all.detections).toEqual(single[0]!.detections);
      methods.forEach((m, i) => expectSameMaps(all.mapsByMethod[m], single[i]!.maps, m));
      expect(separate.forwards).toBe(methods.length);
      expect(shared.forwards).toBe(1);
      // Grad-CAM++ and XPolyCAM each run backward passes alone; together, XPolyCAM's serve both.
      expect(separate.backward).toBeGreaterThan(0);
      expect(shared.backward).toBeLessThan(separate.backward);
      expect(shared.backward).toBe(separate.backward / 2);
    }, 300_000);
  }

  it('leaves tf.memory().numTensors flat', async () => {
    await sequential.explainMethods(frame, methods, { classes: ['car'] });
    const start = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await sequential.explainMethods(frame, methods, { classes: ['car'], perDetection: i % 2 === 1 });
      expect(tf.memory().numTensors).toBe(start);
    }
  }, 300_000);
});
