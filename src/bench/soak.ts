// Long-run check: the sample clip looped for N frames through the whole export pipeline (decode, explain,
// smooth, render, encode), sampling the tensor count and RSS. Leaks show up as growth with length.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatMap, lastValueFrom } from 'rxjs';
import { Engine, type EngineOptions } from '../engine.js';
import { explainFrames, renderFrames, smoothMaps } from '../pipeline/operators.js';
import { pullSource } from '../pipeline/pull.js';
import { PIPELINE_WINDOW } from '../pipeline/export.js';
import type { Frame } from '../types.js';
import { openDecoder, openEncoder, type Encoder } from '../video/index.js';

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

/** The clip's frames again and again (re-indexed and re-timed) until `n` frames. */
async function* looped(clip: string, n: number): AsyncGenerator<Frame> {
  let index = 0;
  let offset = 0;
  while (index < n) {
    const d = await openDecoder(clip);
    let last = 0;
    for await (const f of d) {
      if (index >= n) break;
      last = f.time;
      yield { ...f, index: index++, time: offset + f.time };
    }
    await d.close();
    offset += last + 1 / (d.info.fps || 25);
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const sampleEvery = o.sampleEvery ?? Math.max(50, Math.floor(o.frames / 20));
  const engine = await Engine.create(o.engine);
  const dir = await mkdtemp(join(tmpdir(), 'saliencam-soak-'));
  let encoder: Encoder | undefined;
  try {
    await engine.warmUp();
    const tensorsStart = tf.memory().numTensors;
    const rss: number[] = [];
    const source = pullSource(looped(o.clip, o.frames), PIPELINE_WINDOW);
    const t0 = performance.now();
    let done = 0;
    await lastValueFrom(
      source.items$.pipe(
        explainFrames(engine, { every: o.every }),
        smoothMaps(0.5),
        renderFrames({ colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true }),
        concatMap(async (r) => {
          encoder ??= await openEncoder(join(dir, 'soak.mp4'), { width: r.width, height: r.height, fps: 25 });
          await encoder.write(r.rgb);
          source.ack();
          done++;
          if (done % sampleEvery === 0 || done === o.frames) {
            rss.push(process.memoryUsage().rss / 2 ** 20);
            log(`${done}/${o.frames} frames, ${(done / ((performance.now() - t0) / 1000)).toFixed(1)} fps, tensors ${tf.memory().numTensors}, RSS ${Math.round(rss.at(-1)!)} MB`);
          }
        }),
      ),
    );
    await encoder?.finish();
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
    await encoder?.abort();
    engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
