// `fleet status`: what the queue holds, and per drive how far it is and why it failed. Jobs and their results
// are read back from Redis as data from the network: each is parsed with its schema, and one that does not
// parse (or cannot be read at all) is listed as a bad job with the reason while the others carry on.
import { Job, Queue } from 'bullmq';
import { oneLine } from '../errors.js';
import { terminalSafe } from '../terminal-text.js';
import { connectionOptions } from './connection.js';
import { isDriveJobId, segmentJobId } from './ids.js';
import type { DriveSummary } from './merge.js';
import { firstIssue, parseDriveSummary } from './result.js';
import { DRIVE_JOB, QUEUE_NAME, driveJobSchema } from './settings.js';

/** State of a drive job that could not be read or does not parse. */
export const BAD_JOB = 'bad job';
const JOB_STATES = ['waiting-children', 'waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

export interface DriveStatus {
  id: string;
  drive: string;
  /** Output folder of this drive (out/dir). */
  out: string;
  dir: string;
  /** waiting-children (segments running), waiting/active (merge), completed, failed, ... */
  state: string;
  segments: number;
  segmentsDone: number;
  /** 0..1: finished segments plus the share done of running ones. */
  progress: number;
  /** The one-line reason, when failed (a segment's, the same the CLI gives for the drive). */
  failedReason?: string;
  warnings?: string[];
  summary?: DriveSummary;
}

export interface FleetStatus {
  counts: Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'waitingChildren', number>;
  drives: DriveStatus[];
}

export async function withQueue<T>(redis: string, fn: (q: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(redis, false) });
  try {
    return await fn(queue);
  } finally {
    await queue.close();
  }
}

export async function fleetStatus(queue: Queue): Promise<FleetStatus> {
  const c = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'waiting-children', 'prioritized');
  const counts = {
    waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
    active: c['active'] ?? 0,
    completed: c['completed'] ?? 0,
    failed: c['failed'] ?? 0,
    delayed: c['delayed'] ?? 0,
    waitingChildren: c['waiting-children'] ?? 0,
  };
  // Ids first, then each drive job on its own: one unreadable job must not hide the others, and the segment
  // jobs (most of the queue) are not fetched at all.
  const ids = [...new Set(await queue.getRanges([...JOB_STATES], 0, -1))].filter(isDriveJobId);
  const drives = (await Promise.all(ids.map((id) => driveStatus(queue, id)))).filter((d): d is DriveStatus => !!d);
  drives.sort((a, b) => a.drive.localeCompare(b.drive) || a.id.localeCompare(b.id));
  return { counts, drives };
}

async function driveStatus(queue: Queue, id: string): Promise<DriveStatus | undefined> {
  let job: Job | undefined;
  try {
    job = await Job.fromId(queue, id);
  } catch (err) {
    return badJob(id, undefined, `cannot be read (${oneLine(err)})`);
  }
  if (!job || job.name !== DRIVE_JOB) return undefined;
  const parsed = driveJobSchema.safeParse(job.data);
  if (!parsed.success) return badJob(id, job.data, firstIssue(parsed.error));
  const data = parsed.data;
  const state = await job.getState();
  const segments = await Promise.all(Array.from({ length: data.segments }, (_, i) => queue.getJob(segmentJobId(id, i)).catch(() => undefined)));
  const states = await Promise.all(segments.map((s) => s?.getState() ?? 'unknown'));
  let done = 0;
  let partial = 0;
  let failedReason: string | undefined;
  segments.forEach((s, i) => {
    if (states[i] === 'completed') done++;
    else if (states[i] === 'active') {
      const p = s?.progress as { done?: unknown; total?: unknown } | undefined;
      if (typeof p?.done === 'number' && typeof p.total === 'number' && p.done > 0 && p.total > 0) partial += Math.min(1, p.done / p.total);
    } else if (states[i] === 'failed') failedReason ??= reasonOf(s?.failedReason);
  });
  if (state === 'failed') failedReason ??= reasonOf(job.failedReason);
  let summary: DriveSummary | undefined;
  if (state === 'completed') {
    const result = parseDriveSummary(job.returnvalue);
    if ('summary' in result) summary = result.summary;
    else failedReason ??= `bad result: ${result.error}`;
  }
  const warnings = summary?.warnings?.length ? summary.warnings : undefined;
  return {
    id,
    drive: data.drive,
    out: data.out,
    dir: data.dir,
    state,
    segments: data.segments,
    segmentsDone: done,
    progress: state === 'completed' ? 1 : (done + partial) / (data.segments + 1),
    ...(failedReason ? { failedReason } : {}),
    ...(warnings ? { warnings } : {}),
    ...(summary ? { summary } : {}),
  };
}

const reasonOf = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function badJob(id: string, data: unknown, why: string): DriveStatus {
  const drive = (data as { drive?: unknown } | undefined)?.drive;
  return { id, drive: typeof drive === 'string' ? drive : `(job ${id})`, out: '', dir: '', state: BAD_JOB, segments: 0, segmentsDone: 0, progress: 0, failedReason: `bad job ${id}: ${why}` };
}

export function statusText(s: FleetStatus): string {
  const c = s.counts;
  const lines = [`jobs: ${c.waiting} waiting, ${c.active} active, ${c.completed} done, ${c.failed} failed, ${c.delayed} retrying later, ${c.waitingChildren} drives waiting for segments`];
  for (const d of s.drives) {
    const pct = `${Math.round(d.progress * 100)}%`.padStart(4);
    const reason = d.failedReason ? ` — ${d.failedReason}` : d.warnings ? ` — warning: ${d.warnings[0]}` : '';
    // Names and reasons come from the jobs: escaped, so none can inject lines or terminal sequences.
    lines.push(`${d.state.padEnd(16)} ${pct}  ${String(d.segmentsDone).padStart(4)}/${d.segments} segments  ${terminalSafe(d.drive + reason)}`);
  }
  return `${lines.join('\n')}\n`;
}
