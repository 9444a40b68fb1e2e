// Long-run check: the sample clip looped for N frames through the whole export pipeline (decode, explain,
// smooth, render, encode), sampling the tensor count and RSS. Leaks show up as growth with length.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineOptions } from '../engine.js';
import { runExport } from '../pipeline/export.js';
import { loopedClip } from '../pipeline/looped-clip.js';

export interface SoakOptions {
  clip: string;
  frames: number;
  every: number;
  engine: EngineOptions;
  sampleEvery?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  frames: number;
  seconds: number;
  fps: number;
  tensorsStart: number;
  tensorsEnd: number;
  rssMB: number[];
  /** (last − first sample) / first sample; the first sample is taken after warm-up. */
  rssGrowth: number;
  ok: boolean;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const sampleEvery = o.sampleEvery ?? Math.max(50, Math.floor(o.frames / 20));
  const engine = await Engine.create(o.engine);
  const dir = await mkdtemp(join(tmpdir(), 'saliencam-soak-'));
  try {
    await engine.warmUp();
    const tensorsStart = tf.memory().numTensors;
    const rss: number[] = [];
    const t0 = performance.now();
    // The export command's own pipeline (decode, explain, smooth, render, encode), fed by the looped clip.
    const summary = await runExport(engine, {
      input: o.clip,
      frames: await loopedClip(o.clip, o.frames),
      output: join(dir, 'soak.mp4'),
      every: o.every,
      smooth: 0.5,
      render: { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true },
      onFrame: (done) => {
        if (done % sampleEvery === 0 || done === o.frames) {
          rss.push(process.memoryUsage().rss / 2 ** 20);
          log(`${done}/${o.frames} frames, ${(done / ((performance.now() - t0) / 1000)).toFixed(1)} fps, tensors ${tf.memory().numTensors}, RSS ${Math.round(rss.at(-1)!)} MB`);
        }
      },
    });
    const done = summary.frames;
    const seconds = (performance.now() - t0) / 1000;
    const tensorsEnd = tf.memory().numTensors;
    // Compare against the second sample: the first window includes allocator and JIT warm-up.
    const base = rss[Math.min(1, rss.length - 1)]!;
    const rssGrowth = (rss.at(-1)! - base) / base;
    return {
      frames: done,
      seconds: Math.round(seconds),
      fps: Math.round((done / seconds) * 100) / 100,
      tensorsStart,
      tensorsEnd,
      rssMB: rss.map((r) => Math.round(r)),
      rssGrowth: Math.round(rssGrowth * 1000) / 1000,
      ok: tensorsEnd === tensorsStart && rssGrowth < 0.1,
    };
  } finally {
    engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
