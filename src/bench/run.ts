// `npm run bench`: every figure is measured side by side in one run, on this machine's backend.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Engine, type EngineOptions } from '../engine.js';
import { createExplainer } from '../explain/create.js';
import { DetectorGraph } from '../saliency/graph-context.js';
import { runExport } from '../pipeline/export.js';
import { renderFrame } from '../render/index.js';
import type { ExplainOptions, Frame, RenderOptions } from '../types.js';
import { openDecoder, openEncoder, probeSource } from '../video/index.js';
import { loopedClip } from '../pipeline/looped-clip.js';
import { serveRate } from './serve-rate.js';
import { FAILURE_ROWS, failureTargetVariants } from './failure-rows.js';
import { median, medianRatio, ratesInterleaved, round, timeInterleaved, timeRuns, type Rate } from './stats.js';

export interface BenchOptions {
  clip: string;
  engine: EngineOptions;
  repeats: number;
  /** Worker counts to compare end to end (1 = in-process). */
  workers: number[];
  log?: (line: string) => void;
}

export interface BenchResult {
  backend: string;
  model: string;
  layer: string;
  clip: string;
  frameSize: string;
  startupMs: number;
  firstFrameMs: number;
  /** The engine with saliency off (maxTargets 0): forward on the decode nodes + decode + record. Ratios divide by it. */
  detectorMs: number;
  /** Bare forward + decode outside the engine: decode nodes only, and with the saliency fetches kept. */
  forwardMs: { plain: number; withFetches: number };
  saliencyMs: Record<string, number>;
  saliencyRatioK1: number;
  saliencyRatioK4: number;
  saliencyRatioK8: number;
  saliencyRatioK8Sequential: number;
  /** The same with the full backward pass (gradients: 'full', the engine's batching default). */
  saliencyRatioK1Full: number;
  saliencyRatioK8Full: number;
  stages: { decodeMs: number; detectMs: number; saliencyMs: number; renderMs: number; encodeMs: number };
  /** Export per worker count: the median of interleaved rounds (`rounds`, fps each). */
  e2e: { workers: number; fps: number; frames: number; overlapEfficiency: number; rounds: number[] }[];
  /**
   * The dashboard's pipeline (`serve`), as fast as it goes, per worker count: the median of interleaved rounds
   * (`rounds`, fps each), and against the in-process row the median of the per-round ratios.
   */
  serve: { workers: number; fps: number; frames: number; rounds: number[]; ratioToInProcess?: number }[];
  e2eFps: number;
  /** The same pipeline with saliency off (boxes only), at the largest worker count. */
  e2eDetectionOnlyFps: number;
  /** With saliency over detection only at the largest worker count, the median of the rounds' ratios: what explaining costs end to end. */
  e2eRatioToDetectionOnly: number;
}

/** End-to-end rows: the clip looped this many times, the first E2E_WARM frames untimed, E2E_ROUNDS interleaved rounds. */
const E2E_LOOPS = 2;
const E2E_WARM = 8;
const E2E_ROUNDS = 3;
/**
 * Dashboard rows: one whole loop of the clip timed after a warm-up (serve-rate.ts), every worker count once per
 * round. Rows are interleaved because the neighbours on a shared VM move a 20-second figure by ±10 %, and a ratio
 * is only fair from rows that ran next to each other.
 */
const SERVE_ROUNDS = 5;

const RENDER: RenderOptions = { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true };

async function firstFrames(clip: string, n: number): Promise<Frame[]> {
  const d = await openDecoder(clip);
  const frames: Frame[] = [];
  for await (const f of d) {
    frames.push(f);
    if (frames.length >= n) break;
  }
  await d.close();
  return frames;
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  // The micro-benchmarks compare both modes explicitly; the end-to-end runs use the engine's default.
  const engine = await Engine.create({ ...o.engine, batching: 'batched' });
  await engine.warmUp();
  const startupMs = performance.now() - t0;
  log(`backend ${engine.backend}, model ${engine.model}, start-up (load + warm-up) ${round(startupMs)} ms`);
  const frames = await firstFrames(o.clip, 8);
  const frame = frames[0]!;
  const firstT0 = performance.now();
  const first = await engine.explain(frame);
  await renderFrame(first, RENDER);
  const firstFrameMs = startupMs + (performance.now() - firstT0);

  // Detector alone vs forward + saliency for K targets, and the old full-backward path, all interleaved: one run
  // of every variant per round, medians over `repeats` rounds, after two untimed rounds that ran every path (heap
  // grown, every K's kernels and caches warm). The ratios' denominator is the detector alone: the engine with
  // saliency off (maxTargets 0), whose forward fetches the decode nodes only, + decode + the frame's record.
  const seq = await Engine.create({ ...o.engine, batching: 'sequential' });
  await seq.warmUp();
  // The backward-pass path the fast gradient sums replace (model/centernet-adjoint.ts, the detector's gradient shortcut), side by side.
  const full = await Engine.create({ ...o.engine, batching: 'auto', gradients: 'full' });
  await full.warmUp();
  const forward = forwardOnly(engine, frame);
  const k = (n: number) => ({ minScore: 0, perDetection: true, maxTargets: n });
  const runs = await timeInterleaved(
    {
      detector: () => engine.explain(frame, { maxTargets: 0 }),
      forwardPlain: forward.plain,
      forwardFetches: forward.withFetches,
      K1: () => engine.explain(frame, k(1)),
      K4: () => engine.explain(frame, k(4)),
      K8: () => engine.explain(frame, k(8)),
      K8sequential: () => seq.explain(frame, k(8)),
      K1full: () => full.explain(frame, k(1)),
      K8full: () => full.explain(frame, k(8)),
      ...failureTargetVariants(engine, frame),
    },
    o.repeats,
  );
  seq.dispose();
  full.dispose();
  forward.dispose();
  const detectorMs = median(runs['detector']!);
  const forwardMs = { plain: round(median(runs['forwardPlain']!)), withFetches: round(median(runs['forwardFetches']!)) };
  log(`detector alone (engine, saliency off: forward on the decode nodes + decode + record): ${round(detectorMs)} ms`);
  log(`bare forward + decode: decode nodes only ${forwardMs.plain} ms, with the saliency fetches ${forwardMs.withFetches} ms (what keeping them costs)`);
  const saliencyMs: Record<string, number> = {};
  for (const key of ['K1', 'K4', 'K8', 'K8sequential', 'K1full', 'K8full', ...FAILURE_ROWS]) {
    if (!runs[key]) continue; // a row this model cannot run (no regions on a classifier)
    saliencyMs[key] = median(runs[key]!) - detectorMs;
    if (key === 'why1') log(`why1 (one region target, HiResCAM through the full backward pass): ${round(median(runs[key]!))} ms (x${round(median(runs[key]!) / detectorMs, 2)} the detector alone)`);
    if (key === 'versusK1') log(`versusK1 (first detection at minScore 0 against the second class asked, fast sums): ${round(median(runs[key]!))} ms (x${round(median(runs[key]!) / detectorMs, 2)} the detector alone)`);
    if ((FAILURE_ROWS as readonly string[]).includes(key)) continue;
    const path = key.endsWith('full') ? 'full backward pass (old path)' : key.endsWith('sequential') ? 'fast sums, sequential engine' : 'fast sums';
    log(`${key} (${path}): forward with the saliency fetches + decode + XGrad-CAM maps of the first K detections at minScore 0 + normalise + download + map stats + record: ${round(median(runs[key]!))} ms (x${round(median(runs[key]!) / detectorMs, 2)} the detector alone)`);
  }

  // Stage times on real frames of the clip.
  const decodeMs = await decodeOnlyMs(o.clip);
  const explained = await Promise.all(frames.slice(0, 4).map((f) => engine.explain(f)));
  const stageDetect = round(median(explained.map((e) => e.record.timing.detectMs)), 1);
  const stageSaliency = round(median(explained.map((e) => e.record.timing.saliencyMs)), 1);
  // Render: the four frames in turn, as a clip plays them (label plates cached after the first round).
  for (const e of explained) await renderFrame(e, RENDER);
  let next = 0;
  const renderMs = median(await timeRuns(o.repeats * explained.length, () => renderFrame(explained[next++ % explained.length]!, RENDER)));
  const encodeMs = await encodeOnlyMs(frames);
  const stages = { decodeMs: round(decodeMs, 2), detectMs: stageDetect, saliencyMs: stageSaliency, renderMs: round(renderMs), encodeMs: round(encodeMs, 2) };
  log(`stages per frame (ms): decode ${stages.decodeMs}, detect ${stages.detectMs}, saliency ${stages.saliencyMs}, render ${stages.renderMs}, encode ${stages.encodeMs}`);
  engine.dispose();

  // End to end (export) per worker count, and detection only at the largest count, interleaved round by round.
  const widest = Math.max(...o.workers);
  const e2eVariants: Record<string, () => Promise<Rate>> = Object.fromEntries(o.workers.map((w) => [`${w}`, () => e2eRun(o, w)]));
  e2eVariants['detection only'] = () => e2eRun(o, widest, { maxTargets: 0 });
  const e2eRuns = await ratesInterleaved(e2eVariants, E2E_ROUNDS, (name, pass, r) =>
    log(`end to end round ${pass}, ${name === 'detection only' ? `detection only, ${widest}` : name} explain worker(s): ${round(r.fps, 2)} fps over ${r.frames} frames`),
  );
  const e2e: BenchResult['e2e'] = o.workers.map((workers) => {
    const rs = e2eRuns[`${workers}`]!;
    const fps = median(rs.map((r) => r.fps));
    // Overlap efficiency: achieved fps over what the slowest stage alone would allow (per worker for explain).
    const ideal = 1000 / Math.max(decodeMs, (stageDetect + stageSaliency) / Math.max(1, workers), renderMs, encodeMs);
    log(`end to end with ${workers} explain worker(s): median ${round(fps, 2)} fps (overlap efficiency ${round(fps / ideal, 2)})`);
    return { workers, fps: round(fps, 2), frames: sumFrames(rs), overlapEfficiency: round(fps / ideal, 2), rounds: rs.map((r) => round(r.fps, 2)) };
  });
  const best = e2e.reduce((a, b) => (b.fps > a.fps ? b : a));
  const detOnlyFps = median(e2eRuns['detection only']!.map((r) => r.fps));
  const withSaliency = medianRatio(e2eRuns[`${widest}`]!, e2eRuns['detection only']!);
  log(`detection only (saliency off) with ${widest} worker(s): median ${round(detOnlyFps, 2)} fps; with saliency ×${round(withSaliency, 2)} of that (median of the rounds' ratios)`);

  // The dashboard's pipeline per worker count, interleaved the same way.
  const serveRuns = await ratesInterleaved(Object.fromEntries(o.workers.map((w) => [`${w}`, () => serveRate(o.clip, o.engine, w)])), SERVE_ROUNDS, (name, pass, r) =>
    log(`serve round ${pass}, ${name} explain worker(s): ${round(r.fps, 2)} fps over ${r.frames} frames`),
  );
  const inProcess = serveRuns['0'];
  const serve: BenchResult['serve'] = o.workers.map((workers) => {
    const rs = serveRuns[`${workers}`]!;
    const ratio = inProcess && workers > 0 ? medianRatio(rs, inProcess) : undefined;
    const row = { workers, fps: round(median(rs.map((r) => r.fps)), 2), frames: sumFrames(rs), rounds: rs.map((r) => round(r.fps, 2)) };
    log(`serve with ${workers} explain worker(s): median ${row.fps} fps over ${SERVE_ROUNDS} rounds${ratio ? `, ×${round(ratio, 2)} in-process (median of the rounds' ratios)` : ''}`);
    return ratio ? { ...row, ratioToInProcess: round(ratio, 2) } : row;
  });
  const ratio = (k: string) => round((detectorMs + saliencyMs[k]!) / detectorMs, 2);
  return {
    backend: first.record.backend,
    model: first.record.model,
    layer: o.engine.layer ?? 'default',
    clip: o.clip,
    frameSize: `${frame.width}x${frame.height}`,
    startupMs: round(startupMs),
    firstFrameMs: round(firstFrameMs),
    detectorMs: round(detectorMs),
    forwardMs,
    saliencyMs: Object.fromEntries(Object.entries(saliencyMs).map(([k, v]) => [k, round(v)])),
    saliencyRatioK1: ratio('K1'),
    saliencyRatioK4: ratio('K4'),
    saliencyRatioK8: ratio('K8'),
    saliencyRatioK8Sequential: ratio('K8sequential'),
    saliencyRatioK1Full: ratio('K1full'),
    saliencyRatioK8Full: ratio('K8full'),
    stages,
    e2e,
    serve,
    e2eFps: best.fps,
    e2eDetectionOnlyFps: round(detOnlyFps, 2),
    e2eRatioToDetectionOnly: round(withSaliency, 2),
  };
}

/**
 * The detector's bare forward + decode, outside the engine, with the decode nodes only or with every tensor the
 * engine also fetches for saliency at its layer: their difference is what keeping those tensors costs.
 */
function forwardOnly(engine: Engine, frame: Frame): { plain: () => Promise<void>; withFetches: () => Promise<void>; dispose: () => void } {
  const d = engine.detector;
  const graph = new DetectorGraph(d);
  const layer = engine.layersFor(false)[0]!;
  const withSaliency = [...new Set([...d.decodeNodes, layer, ...graph.gradientFetches(layer)])];
  const run = async (names: string[]) => {
    const input = d.preprocess(frame);
    const executed = d.graph.model.execute({ [d.inputName]: input }, names);
    const outs = Array.isArray(executed) ? executed : [executed];
    try {
      await d.decode(outs.slice(0, d.decodeNodes.length), frame.width, frame.height, engine.defaults.minScore);
    } finally {
      input.dispose();
      tf.dispose(outs);
    }
  };
  return { plain: () => run([...d.decodeNodes]), withFetches: () => run(withSaliency), dispose: () => graph.dispose() };
}

async function decodeOnlyMs(clip: string): Promise<number> {
  const d = await openDecoder(clip);
  const t0 = performance.now();
  let n = 0;
  for await (const _f of d) n++;
  return (performance.now() - t0) / Math.max(n, 1);
}

async function encodeOnlyMs(frames: Frame[]): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'saliencam-bench-'));
  try {
    const f = frames[0]!;
    const enc = await openEncoder(join(dir, 'enc.mp4'), { width: f.width, height: f.height, fps: 25 });
    const t0 = performance.now();
    const n = 32;
    for (let i = 0; i < n; i++) await enc.write(frames[i % frames.length]!.rgb);
    await enc.finish();
    return (performance.now() - t0) / n;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Steady-state export rate: the clip looped to E2E_LOOPS times its length (a drive is minutes long, the sample
 * 1.5 s), decoded, explained, rendered and encoded by `runExport`; timed from the E2E_WARM-th frame written to
 * the last, so start-up and the pipeline's fill and drain do not count (the first-frame row covers start-up).
 */
const sumFrames = (rs: readonly Rate[]): number => rs.reduce((n, r) => n + r.frames, 0);

async function e2eRun(o: BenchOptions, workers: number, overrides?: Partial<ExplainOptions>): Promise<Rate> {
  const dir = await mkdtemp(join(tmpdir(), 'saliencam-bench-'));
  const engine = await createExplainer({ ...o.engine, workers });
  try {
    await engine.warmUp();
    const clipFrames = (await probeSource(o.clip)).frameCount ?? 38;
    const total = Math.max(E2E_WARM + 8, clipFrames * E2E_LOOPS);
    let tWarm = 0;
    let tLast = 0;
    const s = await runExport(engine, {
      input: o.clip,
      frames: await loopedClip(o.clip, total),
      output: join(dir, 'e2e.mp4'),
      render: RENDER,
      ...(overrides ? { overrides } : {}),
      onFrame: (done) => {
        if (done === E2E_WARM) tWarm = performance.now();
        tLast = performance.now();
      },
    });
    const timed = s.frames - E2E_WARM;
    return { fps: timed / ((tLast - tWarm) / 1000), frames: timed };
  } finally {
    engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
