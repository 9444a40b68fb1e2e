// The model input made straight from the frame's 8-bit RGB (src/model/frame-input.ts) against TF.js' own
// resize of the int32 frame it replaced, on real frames of the sample drive: the same numbers, up to float32
// rounding of the sample positions.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/model/backend.js';
import { resizedFrame } from '../src/model/frame-input.js';
import type { Frame } from '../src/types.js';
import { openDecoder } from '../src/video/index.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';
import { stillFrame } from './helpers/frames.js';

function tfResize(frame: Frame, width: number, height: number, halfPixelCenters: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const f = tf.cast(tf.expandDims(tf.tensor3d(frame.rgb, [frame.height, frame.width, 3], 'int32'), 0), 'float32') as tf.Tensor4D;
    return f.shape[1] === height && f.shape[2] === width ? f : tf.image.resizeBilinear(f, [height, width], false, halfPixelCenters);
  });
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('resizedFrame', () => {
  const frames: Frame[] = [];

  beforeAll(async () => {
    await initBackend('wasm');
    const d = await openDecoder(clipPath(TEST_VIDEO));
    for await (const f of d) if (f.index % 18 === 0) frames.push({ ...f, rgb: Uint8Array.from(f.rgb) });
    frames.push(await stillFrame('test1.jpg'));
  }, 120_000);

  it('equals tf.image.resizeBilinear of the int32 frame, down- and upscaling, with and without half-pixel centres', () => {
    expect(frames.length).toBe(4);
    const before = tf.memory().numTensors;
    // CenterNet 512², NanoDet 416², a classifier's 224² (half-pixel centres), and an upscale past the frame.
    const cases: [number, number, boolean][] = [[512, 512, false], [416, 416, false], [224, 224, true], [1600, 900, false], [1600, 900, true]];
    for (const frame of frames) {
      for (const [w, h, half] of cases) {
        const ours = resizedFrame(frame, w, h, half);
        const theirs = tfResize(frame, w, h, half);
        expect(ours.shape).toEqual([1, h, w, 3]);
        expect(ours.dtype).toBe('float32');
        // CenterNet's 512² samples at exact binary fractions of a 1280x720 frame: identical. Elsewhere float32
        // rounding of the sample positions (a few hundredths of a level at most).
        const limit = w === 512 && frame.width === 1280 ? 0 : 0.05;
        expect(maxDiff(ours, theirs), `${frame.width}x${frame.height} → ${w}x${h} half=${half}`).toBeLessThanOrEqual(limit);
        tf.dispose([ours, theirs]);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('passes a frame already at the input size through unchanged', () => {
    const f = frames[0]!;
    const t = resizedFrame(f, f.width, f.height);
    expect(Array.from(t.dataSync().subarray(0, 3000))).toEqual(Array.from(f.rgb.subarray(0, 3000)));
    t.dispose();
  });

  it('keeps each input its own values although WASM reuses one array to make them', () => {
    const [a, b] = [frames[0]!, frames[1]!];
    const ta = resizedFrame(a, 512, 512);
    const expected = Array.from(ta.dataSync());
    const tb = resizedFrame(b, 512, 512);
    expect(Array.from(ta.dataSync())).toEqual(expected);
    expect(maxDiff(ta, tb)).toBeGreaterThan(10);
    tf.dispose([ta, tb]);
  });
});
