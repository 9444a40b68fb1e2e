// Choose the TF.js backend at run time. Native TensorFlow and WebGPU are optional installs, loaded only
// when present; WASM is the default everywhere else; CPU is the last resort (correct but ~30x slower).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradient functions; the union package's Node bundle does (CAMs need them).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { createRequire } from 'node:module';
import { UserError } from '../errors.js';
import { registerWasmGradientKernels } from './wasm-kernels.js';

export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

const require = createRequire(import.meta.url);

export interface BackendProbe {
  name: BackendName;
  available: boolean;
  detail: string;
}

/** Which backends could run here, without initialising any of them (cheap: used by `info`). */
export function listBackends(): BackendProbe[] {
  const has = (pkg: string) => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  };
  const native = has('@tensorflow/tfjs-node-gpu') ? '@tensorflow/tfjs-node-gpu' : has('@tensorflow/tfjs-node') ? '@tensorflow/tfjs-node' : '';
  return [
    { name: 'tensorflow', available: native !== '', detail: native || 'not installed (npm i @tensorflow/tfjs-node-gpu)' },
    {
      name: 'webgpu',
      available: has('webgpu') && has('@tensorflow/tfjs-backend-webgpu'),
      detail: has('webgpu') ? 'npm webgpu (Dawn); needs a Vulkan adapter' : 'npm webgpu not installed',
    },
    { name: 'wasm', available: has('@tensorflow/tfjs-backend-wasm'), detail: '@tensorflow/tfjs-backend-wasm (1 thread under Node)' },
    { name: 'cpu', available: true, detail: 'plain JavaScript kernels (slow)' },
  ];
}

let active: BackendName | undefined;

/**
 * Initialise `choice` (or the best available for `auto`) and make it TF.js's backend.
 * A forced backend that fails is an error; `auto` falls back with a warning on stderr.
 */
export async function initBackend(choice: BackendChoice = 'auto', warn: (msg: string) => void = defaultWarn): Promise<BackendName> {
  if (choice !== 'auto') {
    if (active === choice && tf.getBackend() === choice) return choice;
    try {
      await setUp(choice);
    } catch (err) {
      throw new UserError(`backend ${choice} failed to initialise: ${firstLine(err)}`);
    }
    active = choice;
    return choice;
  }
  if (active) return active;
  for (const name of ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const) {
    const probe = listBackends().find((b) => b.name === name)!;
    if (!probe.available) continue;
    try {
      await setUp(name);
      active = name;
      return name;
    } catch (err) {
      if (name !== 'webgpu' || !/no (usable )?adapter/i.test(firstLine(err))) {
        warn(`backend ${name} unavailable (${firstLine(err)}); trying the next one`);
      }
    }
  }
  throw new UserError('no TF.js backend could be initialised');
}

async function setUp(name: BackendName): Promise<void> {
  switch (name) {
    case 'tensorflow': {
      // Optional peer dependencies: imported by name only when installed.
      const pkgs = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
      let loaded = false;
      for (const pkg of pkgs) {
        try {
          await import(pkg);
          loaded = true;
          break;
        } catch {
          /* try the next one */
        }
      }
      if (!loaded) throw new Error('neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed');
      break;
    }
    case 'webgpu': {
      const webgpuPkg = 'webgpu';
      const dawn = (await import(webgpuPkg)) as { create: (flags: string[]) => unknown; globals: object };
      Object.assign(globalThis, dawn.globals);
      const gpu = dawn.create([]) as { requestAdapter(): Promise<unknown> };
      const adapter = await gpu.requestAdapter();
      if (!adapter) throw new Error('no usable adapter (Dawn found no Vulkan device)');
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
      await import('@tensorflow/tfjs-backend-webgpu');
      break;
    }
    case 'wasm': {
      // Emscripten's loader installs process-wide handlers that rethrow and print the whole minified module
      // on any uncaught error; saliencam reports its own errors, so take them back out.
      const before = new Set([...process.listeners('uncaughtException'), ...process.listeners('unhandledRejection')]);
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmGradientKernels();
      const ok = await tf.setBackend('wasm');
      for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
        for (const l of process.listeners(ev)) if (!before.has(l)) process.removeListener(ev, l as never);
      }
      if (!ok) throw new Error("tf.setBackend('wasm') returned false");
      break;
    }
    case 'cpu':
      break;
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

export function activeBackend(): BackendName | undefined {
  return active;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

function defaultWarn(msg: string): void {
  process.stderr.write(`saliencam: warning: ${msg}\n`);
}
