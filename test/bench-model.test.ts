// `saliencam bench --model` with single-output models (a YOLO export, a GAP classifier): TF.js returns a bare
// tensor, not a list, when one node is fetched, which the detection-only path (maxTargets 0) must accept.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { runCli } from './helpers/cli.js';
import { ffmpegRun, useTmpDir } from './helpers/clips.js';
import { writeToyClassifier, writeToyYolo } from './helpers/toy-models.js';

const tmp = useTmpDir('bench-model-');
let models: Record<'yolo' | 'classifier', string>;
let clip: string;

beforeAll(async () => {
  models = { yolo: (await writeToyYolo(join(tmp.dir, 'yolo'))).path, classifier: (await writeToyClassifier(join(tmp.dir, 'clf'))).path };
  clip = join(tmp.dir, 'short.mp4');
  // One second of a test pattern: the toy models are tiny, the bench's passes over it take a few seconds.
  await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=size=128x96:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', clip]);
});

describe('single-output models', () => {
  it.each(['yolo', 'classifier'] as const)('%s: detection only (maxTargets 0) and detectBatch work in the engine', async (kind) => {
    const engine = await Engine.create({ model: models[kind], backend: 'wasm' });
    try {
      expect(engine.detector.decodeNodes).toHaveLength(1);
      const width = 64;
      const height = 64;
      const rgb = new Uint8Array(width * height * 3).fill(255);
      const r = await engine.explain({ index: 0, time: 0, width, height, rgb }, { maxTargets: 0, minScore: 0 });
      expect(r.maps).toEqual([]);
      expect(r.detections.length).toBeGreaterThan(0);
      const batch = await engine.detectBatch([rgb, rgb], width, height, 0);
      expect(batch).toHaveLength(2);
      expect(batch[0]!.map((d) => d.label)).toEqual(r.detections.map((d) => d.label));
    } finally {
      engine.dispose();
    }
  });

  it.each(['yolo', 'classifier'] as const)('saliencam bench --model <%s> runs to its table and JSON', async (kind) => {
    const json = join(tmp.dir, `${kind}.json`);
    const r = await runCli(['bench', '--model', models[kind], '--clip', clip, '--repeats', '1', '--workers', '0', '--json', json], { timeoutMs: 120_000 });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/detector alone/);
    const result = JSON.parse(await readFile(json, 'utf8')) as { model: string; detectorMs: number; e2e: { fps: number }[] };
    expect(result.model).toBe(kind);
    expect(result.detectorMs).toBeGreaterThan(0);
    expect(result.e2e[0]!.fps).toBeGreaterThan(0);
  });
});
