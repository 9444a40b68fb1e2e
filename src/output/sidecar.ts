// The sidecar: each frame's record as one JSON line (NDJSON), written to an atomic target (video/atomic.ts)
// and renamed on finish(). An output beside the format's (`--sidecar`), of the same shape.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { asWriteError, checkOutputPath, finishAtomic, openAtomic } from '../video/atomic.js';
import type { OutputWriter } from './output.js';

export const sidecarOutput: OutputWriter = {
  check: async (path) => void (await checkOutputPath(path)),
  async open(path) {
    const sidecar = await openSidecar(path);
    return {
      write: (r) => sidecar.append(r.explained.record),
      finish: () => sidecar.finish(),
      abort: () => sidecar.abort(),
    };
  },
};

export interface Sidecar {
  /** Final path (absolute). */
  readonly path: string;
  /** Records appended so far. */
  readonly records: number;
  /** Appends one record as a JSON line; waits when the disk is slower than the producer. */
  append(record: unknown): Promise<void>;
  /** Flushes, closes and renames into place. */
  finish(): Promise<{ records: number; path: string }>;
  /** Closes and deletes the temp file; idempotent. */
  abort(): Promise<void>;
}

export async function openSidecar(path: string): Promise<Sidecar> {
  const target = await openAtomic(path, 'file');
  // The stream writes through the temp's own descriptor (never reopened by name); the target syncs and closes it.
  const stream: WriteStream = createWriteStream(target.temp, { fd: target.fh.fd, autoClose: false });
  let failure: unknown;
  stream.on('error', (err) => {
    failure ??= asWriteError(path, err);
  });
  let records = 0;
  let state: 'open' | 'finished' | 'aborted' = 'open';

  const endStream = async (): Promise<void> => {
    if (stream.writableFinished || stream.destroyed) return;
    const finished = Promise.race([once(stream, 'finish'), once(stream, 'close')]).catch(() => undefined);
    stream.end();
    await finished;
  };

  return {
    path: target.path,
    get records() {
      return records;
    },
    async append(record) {
      if (state !== 'open') throw new Error(`sidecar ${path} is already ${state}`);
      if (failure) throw failure;
      const line = `${JSON.stringify(record)}\n`;
      records++;
      if (!stream.write(line)) {
        // 'drain' never comes if the stream errors; wait for whichever happens.
        await Promise.race([once(stream, 'drain'), once(stream, 'close'), once(stream, 'error').catch(() => undefined)]);
        if (failure) throw failure;
        if ((state as string) === 'aborted') throw new Error(`sidecar ${path} was aborted`);
      }
    },
    async finish() {
      if (state === 'finished') return { records, path: target.path };
      if ((state as string) === 'aborted') throw new Error(`sidecar ${path} was aborted`);
      const last = async (): Promise<void> => {
        await endStream();
        if (failure) throw failure;
      };
      await finishAtomic(target, last, { shown: path, aborted: () => void (state = 'aborted') });
      state = 'finished';
      return { records, path: target.path };
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      // Wait for a write in flight before the descriptor is closed under it.
      const closed = stream.closed ? undefined : once(stream, 'close').catch(() => undefined);
      stream.destroy();
      await closed;
      await target.discard();
    },
  };
}
