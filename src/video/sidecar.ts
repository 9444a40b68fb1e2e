// NDJSON sidecar (one JSON record per line), written under a temp name and renamed on finish().
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { once } from 'node:events';
import { asWriteError, checkOutputPath, removeQuietly, tempPathFor } from './atomic.js';
import { trackTempFile } from './exit-cleanup.js';

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
  const target = await checkOutputPath(path);
  const temp = tempPathFor(target);
  const forget = trackTempFile(temp);
  const stream: WriteStream = createWriteStream(temp, { flags: 'wx' });
  let failure: unknown;
  stream.on('error', (err) => {
    failure ??= asWriteError(path, err);
  });
  try {
    await once(stream, 'open');
  } catch (err) {
    forget();
    throw asWriteError(path, err);
  }
  let records = 0;
  let state: 'open' | 'finished' | 'aborted' = 'open';

  const closeStream = async (): Promise<void> => {
    if (stream.closed) return;
    const closed = once(stream, 'close').catch(() => undefined);
    stream.end();
    await closed;
  };

  return {
    path: target,
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
      if (state === 'finished') return { records, path: target };
      if ((state as string) === 'aborted') throw new Error(`sidecar ${path} was aborted`);
      await closeStream();
      if (failure) {
        state = 'aborted';
        await removeQuietly(temp);
        forget();
        throw failure;
      }
      try {
        await syncFile(temp);
        await rename(temp, target);
      } catch (err) {
        state = 'aborted';
        await removeQuietly(temp);
        forget();
        throw asWriteError(path, err);
      }
      forget();
      state = 'finished';
      return { records, path: target };
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      stream.destroy();
      await removeQuietly(temp);
      forget();
    },
  };
}

/** fsync after the stream closed its own descriptor, so the renamed file is never empty after a crash. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
