// Choose the TF.js backend at run time. Native TensorFlow and WebGPU are optional installs, loaded only
// when present; WASM is the default everywhere else; CPU is the last resort (correct but ~30x slower).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradient functions; the union package's Node bundle does (CAMs need them).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
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
      available: has('webgpu') && has('@tensorflow/tfjs-backend-webgpu') && hasVulkanLoader(),
      detail: !has('webgpu') ? 'npm webgpu not installed' : hasVulkanLoader() ? 'npm webgpu (Dawn) over Vulkan' : 'no Vulkan loader (libvulkan.so.1) on this machine',
    },
    { name: 'wasm', available: has('@tensorflow/tfjs-backend-wasm'), detail: '@tensorflow/tfjs-backend-wasm (1 thread under Node)' },
    { name: 'cpu', available: true, detail: 'plain JavaScript kernels (slow)' },
  ];
}

/**
 * Dawn finds GPUs through Vulkan on Linux. Without the loader library it can only fail (and prints native
 * warnings while doing so), so `auto` does not even try.
 */
export function hasVulkanLoader(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
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
      const events = ['uncaughtException', 'unhandledRejection'] as const;
      const emitter = process as unknown as NodeJS.EventEmitter;
      const before = events.map((ev) => new Set<unknown>(emitter.listeners(ev)));
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmGradientKernels();
      const ok = await tf.setBackend('wasm');
      events.forEach((ev, i) => {
        for (const l of emitter.listeners(ev)) if (!before[i]!.has(l)) emitter.off(ev, l as (...args: unknown[]) => void);
      });
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
