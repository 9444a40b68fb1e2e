// A worker thread with its own TF.js backend instance and engine: WASM runs one thread per instance under
// Node, so a pool of these is how a CPU machine uses all its cores.
import { parentPort, workerData } from 'node:worker_threads';
import { Engine, type EngineOptions } from '../engine.js';
import { UserError } from '../errors.js';
import type { CamMethodName, ExplainOptions, Frame } from '../types.js';

/** A frame on its way to a worker: its pixels are the first `bytes` of the worker's shared slot. */
export interface SlotFrame {
  meta: Omit<Frame, 'rgb'>;
  bytes: number;
  /** Sent with the first frame, and again when a larger frame needs a larger slot. */
  slot?: SharedArrayBuffer;
}

export type WorkerRequest =
  | { type: 'explain'; id: number; frame: SlotFrame; overrides?: Partial<ExplainOptions>; source: string }
  | { type: 'warmup'; id: number };

export type WorkerReply =
  | { type: 'ready'; backend: string; model: string; classNames: string[]; methods: CamMethodName[] }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string; exitCode?: number };

const port = parentPort!;
let slot: SharedArrayBuffer | undefined;

/** The frame, read in place from the shared slot (the pool writes the next one only after this one's reply). */
function frameOf({ meta, bytes, slot: sent }: SlotFrame): Frame {
  if (sent) slot = sent;
  if (!slot || slot.byteLength < bytes) throw new Error('frame slot missing');
  return { ...meta, rgb: new Uint8Array(slot, 0, bytes) };
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
      const r = await engine.explain(frameOf(m.frame), m.overrides, m.source);
      // The frame stays with the caller; maps travel back without a copy.
      const result = { detections: r.detections, maps: r.maps, record: r.record };
      port.postMessage({ type: 'result', id: m.id, result } satisfies WorkerReply, r.maps.flatMap((x) => [x.data.buffer as ArrayBuffer, ...(x.raw ? [x.raw.buffer as ArrayBuffer] : [])]));
    } catch (err) {
      port.postMessage({ type: 'error', id: m.id, message: (err as Error).message, ...(err instanceof UserError ? { exitCode: err.exitCode } : {}) } satisfies WorkerReply);
    }
  });
} catch (err) {
  port.postMessage({ type: 'error', id: -1, message: (err as Error).message, ...(err instanceof UserError ? { exitCode: err.exitCode } : {}) } satisfies WorkerReply);
}
