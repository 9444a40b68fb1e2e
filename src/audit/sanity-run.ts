// `audit --sanity` on a real detector: each step of the cascade loads a fresh engine (so nothing cached from
// the original weights, such as the fast gradient path's head filters, survives), re-initialises the weights of
// the layers after the CAM layer from the output back, and explains the same detections again.
import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from '../engine.js';
import type { DetectedObject } from '../model/detector.js';
import type { CamMethodName, ExplainOptions, Frame } from '../types.js';
import { layersAfter, sanityCascade, type MapsByMethod, type SanityResult } from './sanity.js';

export interface SanityInput {
  /** A fresh engine of the same model and settings as the audited one. */
  createEngine: () => Promise<Engine>;
  /** Frames and the detections to explain on them (from the original model). */
  frames: readonly { frame: Frame; found: DetectedObject[] }[];
  methods: readonly CamMethodName[];
  methodParams: ExplainOptions['methodParams'];
  seed?: number;
}

/**
 * Replaces the named weights by normal values of each tensor's own spread (Adebayo et al.: re-initialised), in
 * every copy of the model the engine runs (Engine.editWeights): the same values in each, as they are drawn from
 * the same seed and the same original spread.
 */
export function randomiseWeights(engine: Engine, names: readonly string[], seed: number): void {
  engine.editWeights((model) => {
    const executor = (model as unknown as { executor: { weightMap: Record<string, tf.Tensor[]> } }).executor;
    const map = { ...executor.weightMap };
    names.forEach((name, i) => {
      const old = map[name]?.[0];
      if (!old) throw new Error(`sanity: no weight ${name}`);
      const v = old.dataSync();
      let mean = 0;
      for (const x of v) mean += x;
      mean /= v.length || 1;
      let sd = 0;
      for (const x of v) sd += (x - mean) ** 2;
      sd = Math.sqrt(sd / (v.length || 1)) || 0.05;
      map[name] = [tf.randomNormal(old.shape, 0, sd, 'float32', seed + i)];
      old.dispose();
    });
    // Through the setter, so the executor knows the new tensors are weights (it does not dispose those).
    executor.weightMap = map;
  });
}

/** The cascade's steps, found on a probe load of the model (whose load time is what each step costs too). */
export interface SanityPlan {
  layers: { name: string; weights: string[] }[];
  /** One engine load, measured on the probe (each of the cascade's layers.length + 1 steps loads one). */
  loadMs: number;
}

export async function planSanity(createEngine: () => Promise<Engine>): Promise<SanityPlan> {
  const t0 = performance.now();
  const probe = await createEngine();
  const loadMs = performance.now() - t0;
  try {
    const camLayer = probe.layersFor(false)[0]!;
    const output = probe.detector.scoreNodes[0]!;
    return { layers: layersAfter(probe.detector.graph.nodes, camLayer, output), loadMs };
  } finally {
    probe.dispose();
  }
}

/** What the cascade will cost: each step loads the model and explains the frames again (`explainMs`: once, all methods). */
export function sanityCostMs(plan: SanityPlan, explainMs: number): number {
  return (plan.layers.length + 1) * (plan.loadMs + explainMs);
}

export async function runSanity(input: SanityInput & { plan: SanityPlan }): Promise<SanityResult> {
  const { layers } = input.plan;
  const targets = input.frames.flatMap((f) => f.found.map((d) => ({ label: d.label })));
  const mapsAt = async (k: number): Promise<MapsByMethod> => {
    const engine = await input.createEngine();
    try {
      if (k > 0) randomiseWeights(engine, layers.slice(0, k).flatMap((l) => l.weights), input.seed ?? 1);
      const out: MapsByMethod = Object.fromEntries(input.methods.map((m) => [m, []]));
      // Each frame once for every method (one forward pass, Engine.explainMethods), maps in frame then detection order.
      for (const { frame, found } of input.frames) {
        const ex = await engine.explainDetections(frame, found, input.methods, { perDetection: true, classes: [], minScore: 0, methodParams: input.methodParams });
        for (const m of input.methods) {
          for (let i = 0; i < found.length; i++) out[m]!.push(ex.mapsByMethod[m]?.find((x) => x.detectionIndex === i)?.data);
        }
      }
      return out;
    } finally {
      engine.dispose();
    }
  };
  return sanityCascade(
    layers.map((l) => l.name),
    targets,
    mapsAt,
  );
}
