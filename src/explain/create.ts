// Picks the explainer for a pipeline: the engine in this thread, or a pool of worker threads each with its
// own engine. Lives apart from both so that neither imports the other (no import circle).
import { availableParallelism } from 'node:os';
import { Engine, type EngineOptions } from '../engine.js';
import { initBackend, type BackendChoice } from '../model/backend.js';
import type { Explainer } from '../types.js';
import { WorkerPoolExplainer } from './worker-pool.js';

/** In this thread, or a pool of worker threads (see EngineOptions.workers). */
export async function createExplainer(options: EngineOptions = {}): Promise<Explainer> {
  const { workers, backend } = await resolveWorkers(options);
  if (workers === 0) return Engine.create(options);
  // The workers get the backend `auto` settled on here, so a fallback is warned about once, not per worker.
  return WorkerPoolExplainer.start({ ...options, ...(backend ? { backend } : {}), workers: 0 }, workers);
}

/** How many worker threads `workers` means here ('auto': one per core, up to 4, on WASM/CPU; none on GPUs). */
export async function resolveWorkers(options: EngineOptions): Promise<{ workers: number; backend?: BackendChoice }> {
  const w = options.workers ?? 0;
  if (w === 0) return { workers: 0 };
  const backend = await initBackend(options.backend ?? 'auto', options.warn);
  if (w !== 'auto') return { workers: w, backend };
  if (backend !== 'wasm' && backend !== 'cpu') return { workers: 0 };
  return { workers: Math.min(4, Math.max(1, availableParallelism())), backend };
}

/**
 * Worker threads for the audit's perturbed copies (Engine.detectInputs): a pool when `workers` resolves to any
 * here, as export's explaining does; undefined when the audit should score them in its own engine.
 */
export async function createInputPool(options: EngineOptions): Promise<WorkerPoolExplainer | undefined> {
  const { workers, backend } = await resolveWorkers(options);
  if (workers === 0) return undefined;
  return WorkerPoolExplainer.start({ ...options, ...(backend ? { backend } : {}), workers: 0 }, workers);
}
