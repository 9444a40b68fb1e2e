// FrameExplainer over a pool of worker threads. Frames are handed to the first idle worker; results come
// back in whatever order they finish, and the pipeline's explain stage puts them back in frame order.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EngineOptions } from '../engine.js';
import { UserError } from '../errors.js';
import type { ExplainedFrame, ExplainOptions, Frame, FrameExplainer } from '../types.js';
import type { WorkerReply, WorkerRequest } from './explain-worker.js';

/** The compiled worker script (tests run from src/, so fall back to the build in dist/). */
function workerScript(): URL {
  const here = new URL('./explain-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../../dist/pipeline/explain-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('worker script not built: run `npm run build`');
}

interface Task {
  request: WorkerRequest;
  transfer?: ArrayBuffer[];
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class PoolWorker {
  busy?: Task;
  constructor(readonly worker: Worker) {}
}

export class WorkerPoolExplainer implements FrameExplainer {
  private readonly queue: Task[] = [];
  private nextId = 0;
  private disposed = false;

  private constructor(
    private readonly workers: PoolWorker[],
    readonly backend: string,
    readonly model: string,
  ) {
    for (const w of workers) {
      w.worker.on('message', (m: WorkerReply) => this.onReply(w, m));
      w.worker.on('error', (err) => this.fail(w, err));
      w.worker.on('exit', (code) => !this.disposed && this.fail(w, new Error(`explain worker exited (code ${code})`)));
    }
  }

  get concurrency(): number {
    return this.workers.length;
  }

  static async start(options: EngineOptions, count: number): Promise<WorkerPoolExplainer> {
    const script = workerScript();
    // The CLI's warn callback cannot cross threads; workers report through their replies instead.
    const { warn: _warn, ...data } = options;
    const workers = Array.from({ length: count }, () => new Worker(script, { workerData: data }));
    const ready = await Promise.allSettled(
      workers.map(
        (w) =>
          new Promise<{ backend: string; model: string }>((resolve, reject) => {
            w.once('message', (m: WorkerReply) => (m.type === 'ready' ? resolve(m) : reject(m.type === 'error' ? new UserError(m.message, m.exitCode) : new Error('bad reply'))));
            w.once('error', reject);
          }),
      ),
    );
    const failed = ready.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw failed.reason instanceof UserError ? failed.reason : new Error(`explain worker failed to start: ${(failed.reason as Error)?.message}`);
    }
    const first = (ready[0] as PromiseFulfilledResult<{ backend: string; model: string }>).value;
    return new WorkerPoolExplainer(workers.map((w) => new PoolWorker(w)), first.backend, first.model);
  }

  explain(frame: Frame, overrides?: Partial<ExplainOptions>, source = ''): Promise<ExplainedFrame> {
    return this.submit({ type: 'explain', id: this.nextId++, frame, ...(overrides ? { overrides } : {}), source }).then((r) => ({ ...(r as Omit<ExplainedFrame, 'frame'>), frame }));
  }

  /** Warm every worker up (kernels compiled) in parallel; returns the slowest one's time. */
  async warmUp(): Promise<number> {
    const times = await Promise.all(this.workers.map(() => this.submit({ type: 'warmup', id: this.nextId++ })));
    return Math.max(...(times as number[]));
  }

  private submit(request: WorkerRequest): Promise<unknown> {
    if (this.disposed) return Promise.reject(new Error('explainer disposed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const w of this.workers) {
      if (w.busy || !this.queue.length) continue;
      const task = this.queue.shift()!;
      w.busy = task;
      w.worker.postMessage(task.request);
    }
  }

  private onReply(w: PoolWorker, m: WorkerReply): void {
    const task = w.busy;
    if (!task || m.type === 'ready') return;
    w.busy = undefined;
    if (m.type === 'result') task.resolve(m.result);
    else task.reject(m.exitCode !== undefined ? new UserError(m.message, m.exitCode) : new Error(m.message));
    this.dispatch();
  }

  private fail(w: PoolWorker, err: Error): void {
    w.busy?.reject(err);
    w.busy = undefined;
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    if (!this.workers.length) for (const t of this.queue.splice(0)) t.reject(err);
    else this.dispatch();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('explainer disposed'));
    for (const w of this.workers) void w.worker.terminate();
  }
}
