// How the live pipeline reads its source: the decoder opened at a frame, and when it may pull the next one
// (while playing, at most `maxFps` a second; while paused, only the steps asked for; otherwise it waits for the
// next command, `wake`).
import type { Readable } from 'node:stream';
import { openDecoder, type Decoder, type SourceInfo } from '../video/index.js';

/**
 * The source decoded from frame `at`. `shift` is added to each frame's time: ffmpeg is asked for a quarter frame
 * early, so that it lands on `at` whatever the rounding of its timestamp; the decoder reports the first frame's
 * time as the seek point itself (its pts count from there), so the quarter frame is added back to keep times on
 * the grid.
 */
export async function openAtFrame(o: { input: string; info: SourceInfo; live: boolean; stdin?: Readable }, at: number, fps: number): Promise<{ decoder: Decoder; shift: number }> {
  const start = at > 0 ? (at - 0.25) / fps : 0;
  const shift = start > 0 ? at / fps - start : 0;
  const decoder = await openDecoder(o.input, {
    info: o.info,
    live: o.live,
    ...(start > 0 ? { start } : {}),
    ...(o.stdin ? { stdin: o.stdin } : {}),
  });
  return { decoder, shift };
}
export class PullGate {
  playing = false;
  /** Frames to pull while paused (a step, or the first frame shown). */
  steps = 0;
  private lastPullAt = 0;
  private waiters: (() => void)[] = [];

  /** `maxFps`: most frames pulled per second while playing; 0 = as fast as the pipeline goes. */
  constructor(private readonly maxFps: number) {}

  /** Playing from now: the next pull is not held back by the last one. */
  restartRate(): void {
    this.lastPullAt = 0;
  }

  /** Waits until the next frame may be pulled; false as soon as `over()` says the run is over. */
  async mayPull(over: () => boolean): Promise<boolean> {
    for (;;) {
      if (over()) return false;
      if (this.playing) {
        const wait = this.maxFps > 0 && this.lastPullAt > 0 ? this.lastPullAt + 1000 / this.maxFps - performance.now() : 0;
        if (wait <= 1) {
          this.lastPullAt = performance.now();
          return true;
        }
        await this.waitForWake(wait);
        continue;
      }
      if (this.steps > 0) {
        this.steps--;
        return true;
      }
      await this.waitForWake();
    }
  }

  /** A command (or close) happened: every waiting pull looks again. */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves on the next wake, or after `ms` when given. */
  private waitForWake(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (timer) clearTimeout(timer);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      const timer = ms !== undefined ? setTimeout(done, ms) : undefined;
      this.waiters.push(done);
    });
  }
}
