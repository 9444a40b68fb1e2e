// `fleet worker`: takes segment and merge jobs from Redis and runs them in sandboxed child processes
// (processor.ts). The first SIGINT/SIGTERM lets the running jobs finish, then exits; a second exits at once,
// and the jobs it held go back to the queue when their lock lapses (--lock seconds).
import { Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { oneLine } from '../errors.js';
import { terminalSafe } from '../terminal-text.js';
import { createProgress, type Progress } from '../cli/progress.js';
import { onInterrupt } from '../cli/signals.js';
import { connectionOptions, maskUrl } from './connection.js';
import { ALLOW_ENV, QUEUE_NAME } from './settings.js';
import { resolve } from 'node:path';

const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed|connect/i;

export interface WorkerOptions {
  redis: string;
  concurrency: number;
  allow: string[];
  /** Seconds a job's lock lives without renewal: how soon the job of a dead worker runs elsewhere. */
  lockSeconds: number;
  quiet: boolean;
}

/** The processor beside this module (processor.js when built, processor.ts under tsx). */
function processorFile(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return fileURLToPath(new URL(`./processor.${ext}`, import.meta.url));
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  // The children read their --allow folders from the environment they are forked with.
  process.env[ALLOW_ENV] = JSON.stringify(o.allow.map((d) => resolve(d)));
  // Job ids, drive names and failure reasons come from jobs: escaped, so none can inject lines or sequences.
  const log = (msg: string): void => {
    process.stderr.write(`saliencam fleet worker: ${terminalSafe(msg)}\n`);
  };
  const worker = new Worker(QUEUE_NAME, processorFile(), {
    connection: connectionOptions(o.redis, true),
    concurrency: o.concurrency,
    useWorkerThreads: false,
    lockDuration: o.lockSeconds * 1000,
    stalledInterval: Math.max(1000, (o.lockSeconds * 1000) / 2),
    // A SIGKILLed worker's job stalls once; a job that stalls again and again is failed, not looped.
    maxStalledCount: 2,
    name: `${hostname()}:${process.pid}`,
  });
  const bars = new Map<string, Progress>();
  const label = (job: Job): string => `${job.name} ${job.id}`;
  let redisDown = false;
  worker.on('active', (job) => {
    if (!o.quiet) log(`started ${label(job)}`);
  });
  worker.on('progress', (job, p) => {
    const v = p as { done?: number; total?: number };
    if (typeof v?.done !== 'number') return;
    let bar = bars.get(job.id!);
    if (!bar) bars.set(job.id!, (bar = createProgress(label(job), { quiet: o.quiet, rateUnit: 'fps', intervalMs: 2000 })));
    bar.update({ done: v.done, total: v.total });
  });
  const finish = (job: Job | undefined): void => {
    if (!job?.id) return;
    bars.get(job.id)?.stop();
    bars.delete(job.id);
  };
  worker.on('completed', (job, value: { frames?: number; skipped?: boolean; elapsedMs?: number; warning?: string }) => {
    finish(job);
    if (redisDown) log('Redis is back');
    redisDown = false;
    if (o.quiet) return;
    const what = value?.skipped ? 'skipped (outputs exist)' : `done${value?.frames !== undefined ? ` (${value.frames} frames${value.elapsedMs ? `, ${(value.elapsedMs / 1000).toFixed(1)} s` : ''})` : ''}`;
    log(`${what}: ${label(job)}${value?.warning ? ` — warning: ${value.warning}` : ''}`);
  });
  worker.on('failed', (job, err) => {
    finish(job);
    const attempts = job ? `attempt ${job.attemptsMade}/${job.opts.attempts ?? 1}` : '';
    log(`failed ${job ? label(job) : 'a job'} (${attempts}): ${oneLine(err)}`);
  });
  worker.on('error', (err) => {
    if (!CONNECTION_ERROR.test(err.message)) {
      log(`error: ${oneLine(err)}`);
      return;
    }
    // ioredis retries forever; say once that the worker is waiting, not once per attempt.
    if (!redisDown) log(`Redis at ${maskUrl(o.redis)} unreachable (${oneLine(err)}); waiting for it to return`);
    redisDown = true;
  });
  worker.on('ready', () => {
    if (redisDown) log('Redis is back');
    redisDown = false;
  });

  let closing: Promise<void> | undefined;
  const done = new Promise<void>((resolveDone) => {
    const release = onInterrupt(() => {
      log('stopping: finishing the running jobs (again to exit now; their jobs go back to the queue)');
      closing = worker.close().finally(() => {
        release();
        resolveDone();
      });
    });
  });
  if (!o.quiet) log(`waiting for jobs on ${maskUrl(o.redis)} (concurrency ${o.concurrency}, allow ${o.allow.join(', ')})`);
  await done;
  await closing;
  for (const bar of bars.values()) bar.stop();
}
