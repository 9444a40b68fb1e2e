// A worker thread with its own TF.js backend instance and engine: WASM runs one thread per instance under
// Node, so a pool of these is how a CPU machine uses all its cores.
import { parentPort, workerData } from 'node:worker_threads';
import { Engine, type EngineOptions } from '../engine.js';
import { UserError } from '../errors.js';
import type { CamMethodName, ExplainOptions, Frame, SaliencyMap } from '../types.js';

/** Data in the worker's shared slot: its first `bytes`. */
export interface SlotData {
  bytes: number;
  /** Sent with the first task, and again when a larger one needs a larger slot. */
  slot?: SharedArrayBuffer;
}

/** A frame on its way to a worker: its pixels are the first `bytes` of the worker's shared slot. */
export interface SlotFrame extends SlotData {
  meta: Omit<Frame, 'rgb'>;
}

/** The audit's perturbed copies (Engine.detectInputs): `count` float32 images of width × height × 3, back to back in the slot. */
export interface SlotInputs extends SlotData {
  count: number;
  width: number;
  height: number;
  frameWidth: number;
  frameHeight: number;
  minScore?: number;
}

export type WorkerRequest =
  | { type: 'explain'; id: number; frame: SlotFrame; overrides?: Partial<ExplainOptions> }
  | { type: 'explainMethods'; id: number; frame: SlotFrame; methods: CamMethodName[]; overrides?: Partial<ExplainOptions> }
  | { type: 'detectInputs'; id: number; inputs: SlotInputs }
  | { type: 'warmup'; id: number };

export type WorkerReply =
  | { type: 'ready'; backend: string; model: string; classNames: string[]; methods: CamMethodName[] }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string; exitCode?: number };

const port = parentPort!;
let slot: SharedArrayBuffer | undefined;

/** The shared slot holding the task's data (the pool writes the next task's only after this one's reply). */
function slotOf({ bytes, slot: sent }: SlotData): SharedArrayBuffer {
  if (sent) slot = sent;
  if (!slot || slot.byteLength < bytes) throw new Error('frame slot missing');
  return slot;
}

/** The frame, read in place from the shared slot. */
function frameOf(f: SlotFrame): Frame {
  return { ...f.meta, rgb: new Uint8Array(slotOf(f), 0, f.bytes) };
}

/** The perturbed copies, read in place (the engine copies each into a tensor). */
function inputsOf(x: SlotInputs): Float32Array[] {
  const at = slotOf(x);
  const n = x.width * x.height * 3;
  return Array.from({ length: x.count }, (_, i) => new Float32Array(at, i * n * 4, n));
}

/** The maps' buffers, each once (a region map is in every method's list), to transfer instead of copy. */
function buffersOf(maps: readonly SaliencyMap[]): ArrayBuffer[] {
  return [...new Set(maps.flatMap((x) => [x.data.buffer as ArrayBuffer, ...(x.raw ? [x.raw.buffer as ArrayBuffer] : [])]))];
}

try {
  const engine = await Engine.create(workerData as EngineOptions);
  port.postMessage({ type: 'ready', backend: engine.backend, model: engine.model, classNames: [...engine.classNames], methods: [...engine.methods] } satisfies WorkerReply);
  port.on('message', async (m: WorkerRequest) => {
    try {
      if (m.type === 'warmup') {
        port.postMessage({ type: 'result', id: m.id, result: await engine.warmUp() } satisfies WorkerReply);
        return;
      }
      if (m.type === 'detectInputs') {
        const x = m.inputs;
        const result = await engine.detectInputs(inputsOf(x), x.width, x.height, x.frameWidth, x.frameHeight, x.minScore);
        port.postMessage({ type: 'result', id: m.id, result } satisfies WorkerReply);
        return;
      }
      if (m.type === 'explainMethods') {
        const r = await engine.explainMethods(frameOf(m.frame), m.methods, m.overrides);
        const result = { detections: r.detections, mapsByMethod: r.mapsByMethod, msByMethod: r.msByMethod };
        port.postMessage({ type: 'result', id: m.id, result } satisfies WorkerReply, buffersOf(Object.values(r.mapsByMethod).flat()));
        return;
      }
      const r = await engine.explain(frameOf(m.frame), m.overrides);
      // The frame stays with the caller; maps travel back without a copy.
      const result = { detections: r.detections, maps: r.maps, record: r.record };
      port.postMessage({ type: 'result', id: m.id, result } satisfies WorkerReply, buffersOf(r.maps));
    } catch (err) {
      port.postMessage({ type: 'error', id: m.id, message: (err as Error).message, ...(err instanceof UserError ? { exitCode: err.exitCode } : {}) } satisfies WorkerReply);
    }
  });
} catch (err) {
  port.postMessage({ type: 'error', id: -1, message: (err as Error).message, ...(err instanceof UserError ? { exitCode: err.exitCode } : {}) } satisfies WorkerReply);
}
