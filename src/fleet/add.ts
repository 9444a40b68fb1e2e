// `fleet add`: each drive becomes one BullMQ flow, its segments the children and the merge the parent. Ids
// come from the drive's content hash and the settings (ids.ts), so adding a drive again is a no-op.
import { FlowProducer, Queue } from 'bullmq';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { oneLine, UserError } from '../errors.js';
import { probeDrive } from './adapter.js';
import { connectionOptions } from './connection.js';
import { driveDirName, driveJobId, hashFile, segmentJobId } from './ids.js';
import { planSegments } from './segments.js';
import { DRIVE_JOB, QUEUE_NAME, SEGMENT_JOB, type DriveJobData, type FleetSettings, type SegmentJobData } from './settings.js';

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

export async function addDrives(redis: string, patterns: string[], out: string, settings: FleetSettings): Promise<AddResult[]> {
  const drives = await expandDrives(patterns);
  const outDir = resolve(out);
  await mkdir(outDir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`--out ${out}: cannot create the folder (${err.code ?? err.message})`);
  });
  const connection = connectionOptions(redis, false);
  const queue = new Queue(QUEUE_NAME, { connection });
  const flows = new FlowProducer({ connection });
  const results: AddResult[] = [];
  try {
    for (const drive of drives) {
      try {
        results.push(await addDrive(queue, flows, drive, outDir, settings));
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        results.push({ drive, outcome: 'error', error: oneLine(err) });
      }
    }
  } finally {
    await Promise.allSettled([queue.close(), flows.close()]);
  }
  return results;
}

async function addDrive(queue: Queue, flows: FlowProducer, drive: string, out: string, settings: FleetSettings): Promise<AddResult> {
  const hash = await hashFile(drive);
  const id = driveJobId(hash, settings);
  const existing = await queue.getJob(id);
  if (existing) return { drive, id, outcome: `already queued (${await existing.getState()})` };
  let probeError: string | undefined;
  const info = await probeDrive(drive).catch((err: unknown) => {
    if (!(err instanceof UserError)) throw err;
    // Still queued, as one segment: the worker fails it with this same reason, where `status` shows it.
    probeError = oneLine(err);
    return undefined;
  });
  const segments = planSegments(info ?? { fps: 0 }, settings.segment);
  const base = { drive, hash, out, dir: driveDirName(drive, hash, settings), settings };
  const parent: DriveJobData = { ...base, segments: segments.length, ...(info?.frameCount ? { frames: info.frameCount } : {}), ...(info?.fps ? { fps: info.fps } : {}), ...(probeError ? { probeError } : {}) };
  await flows.add({
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
  });
  return { drive, id, segments: segments.length, outcome: 'added', ...(probeError ? { error: probeError } : {}) };
}
