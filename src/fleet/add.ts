// `fleet add`: each drive becomes one BullMQ flow, its segments the children and the merge the parent. Ids
// come from the drive's content hash and the settings (ids.ts), so adding a drive again is a no-op.
// Each drive is checked on its own: a bad one is listed and the others are still queued. If Redis goes away
// part way, adding stops with what was queued so far (each drive's flow is added in one transaction, so a
// drive is either wholly queued or not at all).
import { FlowProducer, Queue } from 'bullmq';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { EXIT, oneLine, UserError } from '../errors.js';
import { probeDrive } from './calls.js';
import { connectionOptions, maskUrl } from './connection.js';
import { driveDirName, driveJobId, hashFile, segmentJobId } from './ids.js';
import { planSegments } from './segments.js';
import { DRIVE_JOB, MAX_SEGMENTS, QUEUE_NAME, SEGMENT_JOB, type DriveJobData, type FleetSettings, type SegmentJobData } from './settings.js';

/** Bounded retries with backoff for what may pass (a worker died, Redis went away); bad input fails at once. */
export const JOB_ATTEMPTS = 3;
const RETRY = { attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 } } as const;

export interface AddResult {
  drive: string;
  id?: string;
  segments?: number;
  /** added | already queued (<state>) | error */
  outcome: string;
  error?: string;
}

export async function expandDrives(patterns: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of patterns) {
    if (!isDynamicPattern(p)) {
      files.push(p);
      continue;
    }
    const found = await glob(p, { absolute: true, onlyFiles: true });
    if (!found.length) throw new UserError(`${p}: no file matches`);
    files.push(...found.sort());
  }
  return [...new Set(files.map((f) => resolve(f)))];
}

/** Redis failed under `fleet add`: `results` holds what was done before (queued, already queued, bad). */
export class RedisLostError extends UserError {
  constructor(
    message: string,
    readonly results: AddResult[],
  ) {
    super(message, EXIT.outputFailed);
  }
}

/** A Redis call of `add`: its failure is Redis's, not the drive's. */
class RedisCallError extends Error {}
const redisCall = <T>(p: Promise<T>): Promise<T> =>
  p.catch((err: unknown) => {
    throw new RedisCallError(oneLine(err));
  });

export async function addDrives(redis: string, patterns: string[], out: string, settings: FleetSettings): Promise<AddResult[]> {
  const drives = await expandDrives(patterns);
  const outDir = resolve(out);
  await mkdir(outDir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`--out ${out}: cannot create the folder (${err.code ?? err.message})`);
  });
  const connection = connectionOptions(redis, false);
  const queue = new Queue(QUEUE_NAME, { connection });
  const flows = new FlowProducer({ connection });
  // Without listeners a lost connection's 'error' events would be printed raw (ioredis) or thrown.
  let lastError: string | undefined;
  const onError = (err: Error): void => {
    lastError = oneLine(err);
  };
  queue.on('error', onError);
  flows.on('error', onError);
  const results: AddResult[] = [];
  try {
    for (const drive of drives) {
      try {
        results.push(await addDrive(queue, flows, drive, outDir, settings));
      } catch (err) {
        if (err instanceof RedisCallError) {
          const queued = results.filter((r) => r.outcome === 'added').length;
          throw new RedisLostError(
            `lost Redis at ${maskUrl(redis)} while adding ${drive} (${lastError ?? err.message}): ${queued} of ${drives.length} drives queued before that (listed above), ${drive} perhaps (Redis may have stored it before it went), the ${drives.length - results.length - 1} after it not; run the same fleet add again once Redis is back (queued drives are skipped)`,
            results,
          );
        }
        // Anything else went wrong with this drive alone (unreadable, a probe that crashed on a broken file).
        results.push({ drive, outcome: 'error', error: err instanceof UserError ? oneLine(err) : `${drive}: cannot be read as a drive (${oneLine(err)})` });
      }
    }
  } finally {
    // A close that waits on a Redis that is gone would hang: give up on it after a few seconds.
    await Promise.race([Promise.allSettled([queue.close(), flows.close()]), new Promise((r) => setTimeout(r, 3000).unref())]);
  }
  return results;
}

async function addDrive(queue: Queue, flows: FlowProducer, drive: string, out: string, settings: FleetSettings): Promise<AddResult> {
  const hash = await hashFile(drive);
  const id = driveJobId(hash, settings);
  const existing = await redisCall(queue.getJob(id));
  if (existing) return { drive, id, outcome: `already queued (${await redisCall(existing.getState())})` };
  let probeError: string | undefined;
  const info = await probeDrive(drive).catch((err: unknown) => {
    if (!(err instanceof UserError)) throw err;
    // Still queued, as one segment: the worker fails it with this same reason, where `status` shows it.
    probeError = oneLine(err);
    return undefined;
  });
  const length = info ?? { fps: 0 };
  // Counted before planning: a drive (or its recording's summary) claiming absurd lengths is refused here.
  const planned = plannedSegments(length, settings.segment);
  if (planned > MAX_SEGMENTS) throw new UserError(`${drive}: ${planned} segments of ${settings.segment} s, more than ${MAX_SEGMENTS}; give a longer --segment`);
  const segments = planSegments(length, settings.segment);
  const base = { drive, hash, out, dir: driveDirName(drive, hash, settings), settings };
  const parent: DriveJobData = { ...base, segments: segments.length, ...(info?.frameCount ? { frames: info.frameCount } : {}), ...(info?.fps ? { fps: info.fps } : {}), ...(probeError ? { probeError } : {}) };
  await redisCall(
    flows.add({
      name: DRIVE_JOB,
      queueName: QUEUE_NAME,
      data: parent,
      opts: { jobId: id, ...RETRY },
      children: segments.map((segment) => ({
        name: SEGMENT_JOB,
        queueName: QUEUE_NAME,
        data: { ...base, segment } satisfies SegmentJobData,
        opts: { jobId: segmentJobId(id, segment.index), ...RETRY, failParentOnFailure: true },
      })),
    }),
  );
  return { drive, id, segments: segments.length, outcome: 'added', ...(probeError ? { error: probeError } : {}) };
}

/** How many segments planSegments would make, without making them. */
function plannedSegments(info: { fps: number; frameCount?: number; duration?: number }, seconds: number): number {
  const total = info.frameCount ?? (info.duration && info.fps > 0 ? Math.round(info.duration * info.fps) : undefined);
  if (!total || !(info.fps > 0)) return 1;
  return Math.ceil(total / Math.max(1, Math.round(seconds * info.fps)));
}
