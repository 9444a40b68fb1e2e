// Long-run check: the sample clip looped for N frames through the whole export pipeline (decode, explain,
// smooth, render, encode), sampling the tensor count and RSS. Leaks show up as growth with length.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineOptions } from '../engine.js';
import { runExport, type FrameSource } from '../pipeline/export.js';
import type { Frame } from '../types.js';
import { openDecoder, probeSource } from '../video/index.js';

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

/** The clip's frames again and again (re-indexed and re-timed) until `n` frames, as a frame source. */
async function looped(clip: string, n: number): Promise<FrameSource> {
  const info = await probeSource(clip);
  let closed = false;
  let current: Awaited<ReturnType<typeof openDecoder>> | undefined;
  let produced = 0;
  async function* frames(): AsyncGenerator<Frame> {
    let offset = 0;
    while (produced < n && !closed) {
      const d = (current = await openDecoder(clip, { info }));
      let last = 0;
      for await (const f of d) {
        if (produced >= n || closed) break;
        last = f.time;
        yield { ...f, index: produced++, time: offset + f.time };
      }
      await d.close();
      offset += last + 1 / (info.fps || 25);
    }
  }
  const it = frames();
  let resolveDone!: () => void;
  const ended = new Promise<void>((r) => (resolveDone = r));
  return {
    info,
    get buffered() {
      return current?.buffered ?? 0;
    },
    done: ended.then(() => ({ frames: produced, complete: produced >= n, dropped: 0, closed })),
    async close() {
      closed = true;
      await current?.close();
      resolveDone();
    },
    [Symbol.asyncIterator]: () => it,
  };
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
      frames: await looped(o.clip, o.frames),
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
