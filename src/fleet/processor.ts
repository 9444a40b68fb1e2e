// The sandboxed processor: BullMQ runs it in a child process of `fleet worker`, so decoding, the model and
// encoding never block the worker's event loop (which must keep renewing the job locks in Redis).
// Bad input (UserError: corrupt drive, refused path, bad payload) fails the job at once with its one-line
// reason; anything else is retried with backoff.
import type { SandboxedJob } from 'bullmq';
import { oneLine, UserError } from '../errors.js';
import { mergeDrive } from './merge.js';
import { runSegment } from './segment.js';
import { ALLOW_ENV, DRIVE_JOB, SEGMENT_JOB, driveJobSchema, segmentJobSchema } from './settings.js';

// When the worker dies (SIGKILL, second Ctrl-C) its children go with it: their jobs return to the queue when
// the lock lapses, and the exit hook removes their temp files and ffmpeg processes.
process.on('disconnect', () => process.exit(1));

function allowed(): string[] {
  const list = JSON.parse(process.env[ALLOW_ENV] ?? '[]') as unknown;
  if (!Array.isArray(list) || !list.length) throw new UserError('the worker was started without --allow folders');
  return list.map(String);
}

/** BullMQ reads `name` across the process boundary: this one is not retried. */
function unrecoverable(message: string): Error {
  const err = new Error(message);
  err.name = 'UnrecoverableError';
  return err;
}

export default async function processFleetJob(job: SandboxedJob, _token?: string, signal?: AbortSignal): Promise<unknown> {
  try {
    if (job.name === SEGMENT_JOB) {
      const parsed = segmentJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UserError(`bad job ${job.id}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      let last = 0;
      return await runSegment(parsed.data, {
        allow: allowed(),
        ...(signal ? { stop: signal } : {}),
        onProgress: (done, total) => {
          // One update a second at most: each is a round trip to Redis.
          const now = Date.now();
          if (now - last < 1000 && done !== total) return;
          last = now;
          void job.updateProgress({ done, ...(total ? { total } : {}) }).catch(() => undefined);
        },
      });
    }
    if (job.name === DRIVE_JOB) {
      const parsed = driveJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UserError(`bad job ${job.id}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      const children = Object.values((await job.getChildrenValues()) as Record<string, { warning?: string; index: number; empty?: boolean } | null>);
      const warnings = children
        .filter((v): v is { warning: string; index: number } => typeof v?.warning === 'string')
        .sort((a, b) => a.index - b.index)
        .map((v) => `segment ${v.index}: ${v.warning}`);
      const empty = new Set(children.filter((v) => v?.empty).map((v) => v!.index));
      return await mergeDrive(parsed.data, allowed(), warnings, empty);
    }
    throw new UserError(`bad job ${job.id}: unknown kind ${job.name}`);
  } catch (err) {
    if (err instanceof UserError) throw unrecoverable(oneLine(err));
    throw err;
  }
}
