// A clip decoded again and again (re-indexed, re-timed) as one frame source: long runs from a short sample
// (the soak, and the bench's steady-state end-to-end rows), decoded by ffmpeg like any input.
import type { FrameSource } from './export.js';
import type { Frame } from '../types.js';
import { openDecoder, probeSource } from '../video/index.js';

/** The clip's frames again and again (re-indexed and re-timed) until `n` frames, as a frame source. */
export async function loopedClip(clip: string, n: number): Promise<FrameSource> {
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
