// Choose the TF.js backend at run time. Native TensorFlow and WebGPU are optional installs, loaded only
// when present; WASM is the default everywhere else; CPU is the last resort (correct but ~30x slower).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradient functions; the union package's Node bundle does (CAMs need them).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { IN_KIT } from '../app-root.js';
import { oneLine, UserError } from '../errors.js';
import { registerWasmGradientKernels } from './wasm-kernels.js';
import { terminalSafe } from '../terminal-text.js';

export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

const require = createRequire(import.meta.url);

export interface BackendProbe {
  name: BackendName;
  available: boolean;
  detail: string;
}

// The offline kit bundles these into its JavaScript (scripts/pack.mjs), where require.resolve cannot see them.
const BUNDLED_IN_KIT = new Set(['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu']);

function isInstalled(pkg: string): boolean {
  if (IN_KIT && BUNDLED_IN_KIT.has(pkg)) return true;
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Which backends could run here, without initialising any of them (cheap: used by `info`). */
export function listBackends(): BackendProbe[] {
  const has = isInstalled;
  const native = has('@tensorflow/tfjs-node-gpu') ? '@tensorflow/tfjs-node-gpu' : has('@tensorflow/tfjs-node') ? '@tensorflow/tfjs-node' : '';
  return [
    { name: 'tensorflow', available: native !== '', detail: native || 'not installed (npm i @tensorflow/tfjs-node-gpu)' },
    {
      name: 'webgpu',
      available: has('webgpu') && has('@tensorflow/tfjs-backend-webgpu') && webgpuBlocker() === undefined,
      detail: !has('webgpu') ? 'npm webgpu not installed' : (webgpuBlocker() ?? 'npm webgpu (Dawn) over Vulkan'),
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

/**
 * A GPU on Linux shows up as a device node: /dev/dri/renderD* (Mesa: Intel, AMD), /dev/nvidia*, or /dev/dxg
 * (WSL2). Without one, Vulkan can only offer a software rasteriser (llvmpipe, SwiftShader), which runs the
 * model many times slower than WASM.
 */
export function hasGpuDevice(): boolean {
  if (process.platform !== 'linux') return true;
  const renderNode = (() => {
    try {
      return readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
    } catch {
      return false;
    }
  })();
  return renderNode || existsSync('/dev/nvidiactl') || existsSync('/dev/dxg');
}

/** Why WebGPU cannot run here, checked without loading Dawn (which prints native warnings as it fails). */
function webgpuBlocker(): string | undefined {
  if (!hasVulkanLoader()) return 'no Vulkan loader (libvulkan.so.1) on this machine';
  if (!hasGpuDevice()) return 'no GPU device on this machine (no /dev/dri render node, /dev/nvidia* or /dev/dxg)';
  return undefined;
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: AdapterInfoLike;
}

/**
 * A CPU rasteriser posing as a GPU: Dawn flags it as the fallback adapter (`info.isFallbackAdapter`, formerly on
 * the adapter itself); the names catch Dawn versions that do not (lavapipe reports vendor "mesa", architecture
 * "software", device "llvmpipe-…"; SwiftShader names itself).
 */
export function isSoftwareAdapter(adapter: AdapterLike): boolean {
  const info = adapter.info ?? {};
  if (adapter.isFallbackAdapter || info.isFallbackAdapter) return true;
  if (info.architecture === 'software') return true;
  return /llvmpipe|lavapipe|swiftshader/i.test(`${info.device ?? ''} ${info.description ?? ''}`);
}

interface DawnGpu {
  requestAdapter(): Promise<AdapterLike | null>;
}

let dawn: Promise<{ gpu: DawnGpu; adapter: AdapterLike | null }> | undefined;

/** Dawn's GPU object and its default adapter, made once per process (each instance starts up Vulkan). */
function dawnAdapter(): Promise<{ gpu: DawnGpu; adapter: AdapterLike | null }> {
  dawn ??= (async () => {
    const webgpuPkg = 'webgpu'; // an optional dependency: imported by name only when installed
    const mod = (await import(webgpuPkg)) as { create: (flags: string[]) => DawnGpu; globals: object };
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]);
    return { gpu, adapter: await gpu.requestAdapter() };
  })();
  return dawn;
}

export type WebgpuAdapterProbe = { found: true; software: boolean; info: AdapterInfoLike } | { found: false; reason: string };

/** The adapter a forced `--backend webgpu` would run on, or why there is none (loads Dawn: tests, diagnostics). */
export async function probeWebgpuAdapter(): Promise<WebgpuAdapterProbe> {
  if (!isInstalled('webgpu') || !isInstalled('@tensorflow/tfjs-backend-webgpu')) return { found: false, reason: 'npm webgpu / @tensorflow/tfjs-backend-webgpu not installed' };
  if (!hasVulkanLoader()) return { found: false, reason: 'no Vulkan loader (libvulkan.so.1) on this machine' };
  try {
    const { adapter } = await dawnAdapter();
    if (!adapter) return { found: false, reason: 'Dawn found no Vulkan adapter (no GPU, and no Vulkan driver Dawn accepts, e.g. Mesa >= 25 lavapipe)' };
    const { vendor, architecture, device, description } = adapter.info ?? {};
    return { found: true, software: isSoftwareAdapter(adapter), info: { vendor, architecture, device, description } };
  } catch (err) {
    return { found: false, reason: `Dawn failed to load: ${oneLine(err)}` };
  }
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
      await setUp(choice, warn, true);
    } catch (err) {
      throw new UserError(`backend ${choice} failed to initialise: ${oneLine(err)}`);
    }
    active = choice;
    return choice;
  }
  if (active) return active;
  for (const name of ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const) {
    const probe = listBackends().find((b) => b.name === name)!;
    if (!probe.available) continue;
    try {
      await setUp(name, warn, false);
      active = name;
      return name;
    } catch (err) {
      if (name !== 'webgpu' || !/no (usable )?adapter/i.test(oneLine(err))) {
        warn(`backend ${name} unavailable (${oneLine(err)}); trying the next one`);
      }
    }
  }
  throw new UserError('no TF.js backend could be initialised');
}

/**
 * `forced`: the user named this backend. A forced WebGPU runs on a software Vulkan adapter too (Mesa's
 * lavapipe: 10-20x slower than WASM, but the same kernels as on a GPU, so CI can check them without one).
 */
async function setUp(name: BackendName, warn: (msg: string) => void, forced: boolean): Promise<void> {
  switch (name) {
    case 'tensorflow': {
      // Optional peer dependencies: imported by name only when installed.
      const pkgs = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
      let loaded = false;
      // An installed package that fails to load (a broken native build, a missing libtensorflow) is what
      // the user needs to hear about, not "not installed".
      let broken: string | undefined;
      for (const pkg of pkgs) {
        try {
          await import(pkg);
          loaded = true;
          break;
        } catch (err) {
          if (broken === undefined && isInstalled(pkg)) broken = `${pkg} is installed but failed to load: ${oneLine(err)}`;
        }
      }
      if (!loaded) throw new Error(broken ?? 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed');
      break;
    }
    case 'webgpu': {
      // Without a loader or a GPU, Dawn can only fail or fall back to a software rasteriser, and it prints
      // native warnings on stderr either way: `auto` does not load it. A forced webgpu tries any Vulkan driver.
      const blocker = forced ? (hasVulkanLoader() ? undefined : 'no Vulkan loader (libvulkan.so.1) on this machine') : webgpuBlocker();
      if (blocker) throw new Error(blocker);
      const { gpu, adapter } = await dawnAdapter();
      if (!adapter) throw new Error('no usable adapter (Dawn found no Vulkan device)');
      if (isSoftwareAdapter(adapter)) {
        const what = adapter.info?.description || adapter.info?.device || 'unknown';
        if (!forced) throw new Error(`no usable adapter (only the software one: ${what})`);
        warn(`webgpu runs on a software Vulkan adapter (${what}): correct but 10-20x slower than wasm`);
      }
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

function defaultWarn(msg: string): void {
  process.stderr.write(`saliencam: warning: ${terminalSafe(msg)}\n`);
}
