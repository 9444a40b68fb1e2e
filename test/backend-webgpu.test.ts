// The WebGPU backend (Dawn over Vulkan) against WASM on one real still: same detections, same XGrad-CAM maps.
// Without a GPU this runs on Mesa's lavapipe, a CPU Vulkan driver (Debian bookworm-backports Mesa >= 25; Dawn
// rejects Mesa 22's): 10-20x slower than WASM, so one still, one pass. No adapter: skipped, with the reason.
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { isSoftwareAdapter, probeWebgpuAdapter } from '../src/model/backend.js';
import type { ExplainedFrame } from '../src/types.js';
import { runCli } from './helpers/cli.js';
import { stillFrame } from './helpers/frames.js';

const probe = await probeWebgpuAdapter();
const skipReason = probe.found ? undefined : `no WebGPU adapter: ${probe.reason}`;
if (skipReason) console.warn(`backend-webgpu.test: skipping the WebGPU runs (${skipReason})`);

// Measured on test1.jpg, lavapipe (Mesa 25.0.7) vs WASM: scores equal to 4 decimals, boxes equal, normalised
// maps within 8.1e-7 (mean 2.6e-8). The tolerances leave >100x margin for other drivers and GPUs.
const SCORE_TOL = 1e-3;
const BOX_TOL = 0.5; // source pixels
const MAP_TOL = 1e-4;

// Lavapipe compiles every shader with LLVM on first use: the first WebGPU frame takes minutes on a busy CPU.
const SLOW = 900_000;

const results: Partial<Record<'webgpu' | 'wasm', ExplainedFrame>> = {};
const warnings: string[] = [];

beforeAll(async () => {
  if (!probe.found) return;
  const frame = await stillFrame('test1.jpg');
  // One engine at a time: each owns TF.js's global backend while it runs.
  for (const backend of ['webgpu', 'wasm'] as const) {
    const engine = await Engine.create({ backend, warn: (w) => warnings.push(w) });
    try {
      results[backend] = await engine.explain(frame, {});
    } finally {
      engine.dispose();
    }
  }
  const [g, w] = [results.webgpu!, results.wasm!];
  const diffs = g.maps.map((m, i) => maxAbsDiff(m.data, w.maps[i]?.data ?? new Float32Array()));
  console.log(
    `webgpu on ${probe.info.description || probe.info.device} vs wasm, test1.jpg: explain ${g.record.timing.totalMs} vs ${w.record.timing.totalMs} ms (first frame); ` +
      `map max abs diff ${diffs.map((d) => d.toExponential(1)).join(', ')}`,
  );
}, SLOW);

describe('webgpu backend against wasm (test1.jpg, CenterNet, XGrad-CAM)', () => {
  it('ran on webgpu, warning when the adapter is a software one', (ctx) => {
    if (!probe.found) return ctx.skip(skipReason);
    expect(results.webgpu!.record.backend).toBe('webgpu');
    expect(results.wasm!.record.backend).toBe('wasm');
    expect(warnings.some((w) => /software Vulkan adapter/.test(w))).toBe(probe.software);
  });

  it(`finds the same objects (scores within ${SCORE_TOL}, boxes within ${BOX_TOL} px)`, (ctx) => {
    if (!probe.found) return ctx.skip(skipReason);
    const [g, w] = [results.webgpu!.detections, results.wasm!.detections];
    expect(w.length).toBeGreaterThan(0); // test1.jpg has cars: an empty pair would prove nothing
    expect(g.map((d) => d.label)).toEqual(w.map((d) => d.label));
    g.forEach((d, i) => {
      expect(Math.abs(d.score - w[i]!.score)).toBeLessThanOrEqual(SCORE_TOL);
      d.box.forEach((v, j) => expect(Math.abs(v - w[i]!.box[j]!)).toBeLessThanOrEqual(BOX_TOL));
    });
  });

  it(`makes the same normalised saliency maps (max abs difference < ${MAP_TOL})`, (ctx) => {
    if (!probe.found) return ctx.skip(skipReason);
    const [g, w] = [results.webgpu!.maps, results.wasm!.maps];
    expect(w.length).toBeGreaterThan(0);
    expect(g.map((m) => [m.label, m.width, m.height])).toEqual(w.map((m) => [m.label, m.width, m.height]));
    g.forEach((m, i) => {
      // a map that is all zeros (or NaN) on both would match trivially
      expect(Math.max(...w[i]!.data)).toBeCloseTo(1, 5);
      expect(maxAbsDiff(m.data, w[i]!.data)).toBeLessThan(MAP_TOL);
    });
  });
});

describe('auto backend choice', () => {
  it('tells software Vulkan adapters from GPUs by what Dawn reports', () => {
    // lavapipe as Dawn 0.6 (npm webgpu 0.6.2) reports it with Mesa 25.0.7
    const lavapipe = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1' };
    expect(isSoftwareAdapter({ info: { ...lavapipe, isFallbackAdapter: true } })).toBe(true);
    expect(isSoftwareAdapter({ info: lavapipe })).toBe(true); // a Dawn that does not flag it still is caught
    expect(isSoftwareAdapter({ isFallbackAdapter: true, info: {} })).toBe(true); // the older, adapter-level flag
    expect(isSoftwareAdapter({ info: { vendor: 'google', architecture: '', device: '', description: 'SwiftShader Device (Subzero)' } })).toBe(true);
    expect(isSoftwareAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', isFallbackAdapter: false } })).toBe(false);
    expect(isSoftwareAdapter({ info: { vendor: 'intel', architecture: 'gen-12lp', device: '', description: 'Intel(R) UHD Graphics 770 (ADL-S GT1)' } })).toBe(false);
  });

  it('prefers wasm over a software WebGPU adapter (saliencam info)', async (ctx) => {
    if (!probe.found) return ctx.skip(skipReason);
    if (!probe.software) return ctx.skip(`the adapter here is a GPU (${probe.info.description}): auto rightly takes it`);
    const r = await runCli(['info', '--json'], { timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { chosenBackend: string; warnings: string[] };
    expect(info.chosenBackend).toBe('wasm');
  });
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
