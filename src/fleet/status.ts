// `fleet status`: what the queue holds, and per drive how far it is and why it failed.
import { Queue, type Job } from 'bullmq';
import { connectionOptions } from './connection.js';
import { segmentJobId } from './ids.js';
import type { DriveSummary } from './merge.js';
import { DRIVE_JOB, QUEUE_NAME, type DriveJobData } from './settings.js';

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
  const jobs = (await queue.getJobs(['waiting-children', 'waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'])).filter((j): j is Job => !!j && j.name === DRIVE_JOB);
  const drives = await Promise.all(jobs.map((j) => driveStatus(queue, j)));
  drives.sort((a, b) => a.drive.localeCompare(b.drive) || a.id.localeCompare(b.id));
  return { counts, drives };
}

async function driveStatus(queue: Queue, job: Job): Promise<DriveStatus> {
  const data = job.data as DriveJobData;
  const state = await job.getState();
  const segments = await Promise.all(Array.from({ length: data.segments }, (_, i) => queue.getJob(segmentJobId(job.id!, i))));
  const states = await Promise.all(segments.map((s) => s?.getState() ?? 'unknown'));
  let done = 0;
  let partial = 0;
  let failedReason: string | undefined;
  segments.forEach((s, i) => {
    if (states[i] === 'completed') done++;
    else if (states[i] === 'active') {
      const p = s?.progress as { done?: number; total?: number } | undefined;
      if (p?.done && p.total) partial += Math.min(1, p.done / p.total);
    } else if (states[i] === 'failed') failedReason ??= s?.failedReason;
  });
  if (state === 'failed') failedReason ??= job.failedReason;
  const summary = state === 'completed' ? (job.returnvalue as DriveSummary) : undefined;
  const warnings = summary?.warnings?.length ? summary.warnings : undefined;
  return {
    id: job.id!,
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

export function statusText(s: FleetStatus): string {
  const c = s.counts;
  const lines = [`jobs: ${c.waiting} waiting, ${c.active} active, ${c.completed} done, ${c.failed} failed, ${c.delayed} retrying later, ${c.waitingChildren} drives waiting for segments`];
  for (const d of s.drives) {
    const pct = `${Math.round(d.progress * 100)}%`.padStart(4);
    const reason = d.failedReason ? ` — ${d.failedReason}` : d.warnings ? ` — warning: ${d.warnings[0]}` : '';
    lines.push(`${d.state.padEnd(16)} ${pct}  ${String(d.segmentsDone).padStart(4)}/${d.segments} segments  ${d.drive}${reason}`);
  }
  return `${lines.join('\n')}\n`;
}
