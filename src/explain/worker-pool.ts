// The Explainer over a pool of worker threads. Frames are handed to the first idle worker; results come back
// in whatever order they finish, and the pipeline's explain stage puts them back in frame order. A cancelled
// frame leaves the queue, or, when a worker is on it, its result is dropped; a worker on a slow method's frame
// (PolyCAM, minutes on WASM) is stopped and replaced, so it never holds the pool after nobody wants its result.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EngineOptions } from '../engine.js';
import { UserError } from '../errors.js';
import { REALTIME_METHODS } from '../saliency/methods/index.js';
import type { CamMethodName, ExplainedFrame, ExplainOptions, Explainer, Frame, MethodsExplainedFrame, ScoredDetection } from '../types.js';
import type { SlotData, SlotFrame, SlotInputs, WorkerReply, WorkerRequest } from './explain-worker.js';

/** The compiled worker script (tests run from src/, so fall back to the build in dist/). */
function workerScript(): URL {
  const here = new URL('./explain-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../../dist/explain/explain-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('worker script not built: run `npm run build`');
}

/** A task as queued here; `post` turns it into the worker's request. */
type PoolRequest =
  | { type: 'explain'; id: number; frame: Frame; overrides?: Partial<ExplainOptions> }
  | { type: 'explainMethods'; id: number; frame: Frame; methods: CamMethodName[]; overrides?: Partial<ExplainOptions> }
  | { type: 'detectInputs'; id: number; images: Float32Array[]; inputs: Omit<SlotInputs, keyof SlotData | 'count'> }
  | Extract<WorkerRequest, { type: 'warmup' }>;

interface Task {
  request: PoolRequest;
  signal?: AbortSignal;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Ready = Omit<Extract<WorkerReply, { type: 'ready' }>, 'type'>;

class PoolWorker {
  busy?: Task;
  /** Still loading its model (a replacement for a stopped worker). */
  starting = false;
  /** Shared memory the frame's pixels are copied into for this worker (grown when a frame does not fit). */
  slot?: SharedArrayBuffer;
  constructor(readonly worker: Worker) {}

  /**
   * Sends a task. A frame's pixels go through the worker's shared slot: one memcpy here and none there, where
   * postMessage's structured clone would serialise 2.7 MB per 720p frame on this thread, then allocate and copy
   * it again in the worker (and both copies are garbage a frame later).
   */
  post(request: PoolRequest): void {
    if (request.type === 'warmup') {
      this.worker.postMessage(request satisfies WorkerRequest);
    } else if (request.type === 'explain' || request.type === 'explainMethods') {
      const { rgb, ...meta } = request.frame;
      const frame: SlotFrame = { meta, ...this.fill([rgb]) };
      this.worker.postMessage({ ...request, frame } satisfies WorkerRequest);
    } else {
      // The audit's perturbed copies: 3 MB each at 512², a batch of them back to back in the slot.
      const inputs: SlotInputs = { ...request.inputs, count: request.images.length, ...this.fill(request.images) };
      this.worker.postMessage({ type: 'detectInputs', id: request.id, inputs } satisfies WorkerRequest);
    }
  }

  /** Copies the arrays into the slot, back to back (grown first when they do not fit). */
  private fill(parts: readonly (Uint8Array | Float32Array)[]): SlotData {
    const bytes = parts.reduce((n, p) => n + p.byteLength, 0);
    const grow = !this.slot || this.slot.byteLength < bytes;
    if (grow) this.slot = new SharedArrayBuffer(bytes);
    let at = 0;
    for (const p of parts) {
      new Uint8Array(this.slot!, at, p.byteLength).set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
      at += p.byteLength;
    }
    return { bytes, ...(grow ? { slot: this.slot! } : {}) };
  }
}

function whenReady(w: Worker): Promise<Ready> {
  return new Promise((resolve, reject) => {
    w.once('message', (m: WorkerReply) => (m.type === 'ready' ? resolve(m) : reject(m.type === 'error' ? new UserError(m.message, m.exitCode) : new Error('bad reply'))));
    w.once('error', reject);
  });
}

export class WorkerPoolExplainer implements Explainer {
  private readonly queue: Task[] = [];
  private nextId = 0;
  private disposed = false;

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly options: Omit<EngineOptions, 'warn'>,
    readonly backend: string,
    readonly model: string,
    readonly classNames: readonly string[],
    readonly methods: readonly CamMethodName[],
  ) {
    for (const w of workers) this.listen(w);
  }

  get concurrency(): number {
    return this.workers.length;
  }

  static async start(options: EngineOptions, count: number): Promise<WorkerPoolExplainer> {
    const script = workerScript();
    // The CLI's warn callback cannot cross threads; workers report through their replies instead.
    const { warn: _warn, ...data } = options;
    const workers = Array.from({ length: count }, () => new Worker(script, { workerData: data }));
    const ready = await Promise.allSettled(workers.map(whenReady));
    const failed = ready.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw failed.reason instanceof UserError ? failed.reason : new Error(`explain worker failed to start: ${(failed.reason as Error)?.message}`);
    }
    const first = (ready[0] as PromiseFulfilledResult<Ready>).value;
    return new WorkerPoolExplainer(workers.map((w) => new PoolWorker(w)), data, first.backend, first.model, first.classNames, first.methods);
  }

  explain(frame: Frame, overrides?: Partial<ExplainOptions>, signal?: AbortSignal): Promise<ExplainedFrame> {
    return this.submit({ type: 'explain', id: this.nextId++, frame, ...(overrides ? { overrides } : {}) }, signal).then((r) => ({ ...(r as Omit<ExplainedFrame, 'frame'>), frame }));
  }

  /** Engine.explainMethods on a worker: one forward pass for every method (the audit's noisy copies). */
  explainMethods(frame: Frame, methods: readonly CamMethodName[], overrides?: Partial<ExplainOptions>, signal?: AbortSignal): Promise<MethodsExplainedFrame> {
    const request = { type: 'explainMethods' as const, id: this.nextId++, frame, methods: [...methods], ...(overrides ? { overrides } : {}) };
    return this.submit(request, signal).then((r) => ({ ...(r as Omit<MethodsExplainedFrame, 'frame'>), frame }));
  }

  /**
   * Engine.detectInputs on a worker (the audit's perturbed copies): the same engine code on the same backend, so
   * the same detections as in-process. Calls in flight at once go to different workers.
   */
  detectInputs(images: Float32Array[], width: number, height: number, frameWidth: number, frameHeight: number, minScore?: number, signal?: AbortSignal): Promise<ScoredDetection[][]> {
    const inputs = { width, height, frameWidth, frameHeight, ...(minScore !== undefined ? { minScore } : {}) };
    return this.submit({ type: 'detectInputs', id: this.nextId++, images, inputs }, signal) as Promise<ScoredDetection[][]>;
  }

  /** Warm every worker up (kernels compiled) in parallel; returns the slowest one's time. */
  async warmUp(): Promise<number> {
    const times = await Promise.all(this.workers.map(() => this.submit({ type: 'warmup', id: this.nextId++ })));
    return Math.max(...(times as number[]));
  }

  private submit(request: PoolRequest, signal?: AbortSignal): Promise<unknown> {
    if (this.disposed) return Promise.reject(new Error('explainer disposed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      // The listener goes when the task settles: a run's one signal sees thousands of frames.
      const onAbort = (): void => this.cancel(task);
      const settle = <T>(fn: (v: T) => void) => (v: T): void => {
        signal?.removeEventListener('abort', onAbort);
        fn(v);
      };
      const task: Task = { request, resolve: settle(resolve), reject: settle(reject), ...(signal ? { signal } : {}) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(task);
      this.dispatch();
    });
  }

  private cancel(task: Task): void {
    const i = this.queue.indexOf(task);
    if (i >= 0) {
      this.queue.splice(i, 1);
    } else {
      const w = this.workers.find((x) => x.busy === task);
      if (!w) return; // already answered
      // A realtime method's frame finishes soon: its result is dropped and the worker stays (a model reload
      // costs more). A slow method's (PolyCAM: minutes) worker is stopped and replaced at once.
      const r = task.request;
      const methods = r.type === 'explain' ? [r.overrides?.method] : r.type === 'explainMethods' ? r.methods : [];
      if (methods.some((m) => m && !REALTIME_METHODS.includes(m))) this.replace(w);
      else w.busy = { request: task.request, resolve: () => undefined, reject: () => undefined };
    }
    task.reject(task.signal?.reason);
  }

  /** Stops a worker mid-frame and starts a fresh one in its place (the model loads again, a few seconds). */
  private replace(w: PoolWorker): void {
    w.worker.removeAllListeners();
    w.worker.on('error', () => undefined);
    void w.worker.terminate();
    const i = this.workers.indexOf(w);
    if (i < 0 || this.disposed) return;
    const fresh = new PoolWorker(new Worker(workerScript(), { workerData: this.options }));
    fresh.starting = true;
    this.workers[i] = fresh;
    whenReady(fresh.worker).then(
      () => {
        fresh.starting = false;
        this.listen(fresh);
        this.dispatch();
      },
      (err: Error) => this.fail(fresh, err),
    );
  }

  private listen(w: PoolWorker): void {
    w.worker.on('message', (m: WorkerReply) => this.onReply(w, m));
    w.worker.on('error', (err) => this.fail(w, err));
    w.worker.on('exit', (code) => !this.disposed && this.fail(w, new Error(`explain worker exited (code ${code})`)));
  }

  private dispatch(): void {
    for (const w of this.workers) {
      while (!w.busy && !w.starting && this.queue.length) {
        const task = this.queue.shift()!;
        try {
          w.post(task.request);
          w.busy = task;
        } catch (err) {
          // Nothing was sent (no memory for a larger slot, a frame that cannot be read): this task fails alone.
          task.reject(err);
        }
      }
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
    w.worker.removeAllListeners();
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    if (!this.workers.length) for (const t of this.queue.splice(0)) t.reject(err);
    else this.dispatch();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('explainer disposed'));
    for (const w of this.workers) {
      w.busy?.reject(new Error('explainer disposed'));
      void w.worker.terminate();
    }
  }
}
