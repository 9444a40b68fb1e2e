// `saliencam export` on the real clip: the annotated mp4, the sidecar, truncated and bad inputs, Ctrl-C,
// and bounded memory on a long input.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { runExport, PIPELINE_WINDOW } from '../src/pipeline/export.js';
import { openDecoder } from '../src/video/index.js';
import { clipPath, ffmpegRun, ffprobeCount, useTmpDir, TEST_VIDEO } from './helpers/clips.js';
import { expectOneLineError, runCli } from './helpers/cli.js';

const tmp = useTmpDir('saliencam-export-');

const render = { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true } as const;

async function firstFrameRgb(path: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const d = await openDecoder(path);
  for await (const f of d) {
    await d.close();
    return { rgb: f.rgb, width: f.width, height: f.height };
  }
  throw new Error('no frame');
}

describe('export of the sample drive', () => {
  it('writes a 1280x720 25 fps 38-frame H.264 mp4 and a 38-line sidecar with the cars', async () => {
    const out = join(tmp.dir, 'drive.saliency.mp4');
    const side = join(tmp.dir, 'drive.ndjson');
    const r = await runCli(['export', clipPath(TEST_VIDEO), '-o', out, '--sidecar', side, '--audio', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const probe = await ffprobeCount(out);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    expect([video.width, video.height]).toEqual([1280, 720]);
    expect(video.r_frame_rate).toBe('25/1');
    expect(Number(video.nb_read_frames)).toBe(38);
    expect(probe.streams.some((s) => s.codec_type === 'audio')).toBe(true);

    const records = (await readFile(side, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(38);
    records.forEach((rec, i) => {
      expect(rec.frame).toBe(i);
      expect(rec.time).toBeCloseTo(i / 25, 2);
      expect(rec.width).toBe(1280);
    });
    const withCars = records.filter((rec) => rec.detections.some((d: { label: string }) => d.label === 'car'));
    expect(withCars.length).toBeGreaterThanOrEqual(30);
    expect(records[0].saliency.find((s: { label: string }) => s.label === 'car')).toBeDefined();

    // The annotated frame differs from the input inside the car boxes far more than in the sky.
    const src = await firstFrameRgb(clipPath(TEST_VIDEO));
    const ann = await firstFrameRgb(out);
    const meanDiff = (x0: number, y0: number, x1: number, y1: number) => {
      let s = 0;
      let n = 0;
      for (let y = Math.round(y0); y < y1; y += 2)
        for (let x = Math.round(x0); x < x1; x += 2) {
          const i = (y * 1280 + x) * 3;
          s += Math.abs(src.rgb[i]! - ann.rgb[i]!) + Math.abs(src.rgb[i + 1]! - ann.rgb[i + 1]!) + Math.abs(src.rgb[i + 2]! - ann.rgb[i + 2]!);
          n++;
        }
      return s / n / 3;
    };
    const car = records[0].detections.find((d: { label: string }) => d.label === 'car').box as number[];
    const inCar = meanDiff(car[0]!, car[1]!, car[2]!, car[3]!);
    const sky = meanDiff(300, 40, 700, 160);
    console.log(`mean |annotated − input| per channel: ${inCar.toFixed(1)} in the first car box, ${sky.toFixed(1)} in the sky`);
    expect(inCar).toBeGreaterThan(8);
    expect(inCar).toBeGreaterThan(3 * sky);
    await sharp(Buffer.from(ann.rgb), { raw: { width: 1280, height: 720, channels: 3 } }).png().toFile('test-artifacts/export-frame0.png').catch(() => undefined);
  }, 600_000);
});

describe('bad and broken inputs', () => {
  it('a truncated input yields a valid output of the frames that decode, a warning and exit code 3', async () => {
    const cut = join(tmp.dir, 'cut.mp4');
    await copyFile(clipPath(TEST_VIDEO), cut);
    await truncate(cut, 300_000);
    const out = join(tmp.dir, 'cut.saliency.mp4');
    const side = join(tmp.dir, 'cut.ndjson');
    const r = await runCli(['export', cut, '-o', out, '--sidecar', side, '--every', '5', '-q']);
    expect(r.code, r.stderr).toBe(3);
    const warning = r.stderr.split('\n').find((l) => l.includes('warning'))!;
    const frames = Number(/after (\d+) frames/.exec(warning)?.[1]);
    console.log(warning);
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(38);
    const probe = await ffprobeCount(out);
    expect(Number(probe.streams.find((s) => s.codec_type === 'video')!.nb_read_frames)).toBe(frames);
    expect((await readFile(side, 'utf8')).trim().split('\n')).toHaveLength(frames);
  }, 600_000);

  it.each([
    ['a missing file', async () => join(tmp.dir, 'nope.mp4')],
    ['an empty file', async () => { const p = join(tmp.dir, 'empty.mp4'); await writeFile(p, ''); return p; }],
    ['a text file named .mp4', async () => { const p = join(tmp.dir, 'notes.mp4'); await writeFile(p, 'this is not a video\n'); return p; }],
    ['a directory', async () => tmp.dir],
  ])('%s: one error line, exit 2, no output left behind', async (_what, make) => {
    const input = await make();
    const outDir = join(tmp.dir, `out-${Math.random().toString(36).slice(2)}`);
    await mkdir(outDir);
    const r = await runCli(['export', input, '-o', join(outDir, 'x.mp4'), '--sidecar', join(outDir, 'x.ndjson')]);
    expect(r.code).toBe(2);
    console.log(expectOneLineError(r));
    expect(readdirSync(outDir)).toEqual([]);
  }, 120_000);

  it('an unwritable output folder fails before any work, exit 2', async () => {
    const ro = join(tmp.dir, 'missing-folder', 'x.mp4');
    const r = await runCli(['export', clipPath(TEST_VIDEO), '-o', ro]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r)).toMatch(/does not exist/);
  }, 120_000);

  it('bad flag values: exit 2 with one line', async () => {
    for (const args of [['--every', '0'], ['--smooth', '2'], ['--method', 'nope'], ['--alpha', 'x'], ['--classes', 'unicorn']]) {
      const r = await runCli(['export', clipPath(TEST_VIDEO), '-o', join(tmp.dir, 'bad.mp4'), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expectOneLineError(r);
    }
    expect(existsSync(join(tmp.dir, 'bad.mp4'))).toBe(false);
  }, 300_000);
});

describe('interruption and long inputs', () => {
  it('SIGINT during an export leaves a playable mp4 and sidecar of the frames done, exit 130', async () => {
    const out = join(tmp.dir, 'interrupted.mp4');
    const side = join(tmp.dir, 'interrupted.ndjson');
    let sent = false;
    const r = await runCli(['export', clipPath(TEST_VIDEO), '-o', out, '--sidecar', side], {
      onSpawn: (child) => {
        child.stderr!.on('data', (d: Buffer) => {
          // Progress lines appear once frames are being written; interrupt then.
          if (!sent && /export: \d+/.test(d.toString())) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      },
    });
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted: wrote/);
    const probe = await ffprobeCount(out);
    const n = Number(probe.streams.find((s) => s.codec_type === 'video')!.nb_read_frames);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(38);
    expect((await readFile(side, 'utf8')).trim().split('\n')).toHaveLength(n);
  }, 600_000);

  it('a long input (the clip looped 20 times) keeps queues bounded and the tensor count flat', async () => {
    const looped = join(tmp.dir, 'looped.mp4');
    // Small frames keep the run short; the queues and tensors do not depend on the frame size.
    await ffmpegRun(['-stream_loop', '19', '-i', clipPath(TEST_VIDEO), '-an', '-vf', 'scale=320:180', '-c:v', 'libx264', '-preset', 'ultrafast', looped]);
    const engine = await Engine.create({ backend: 'wasm' });
    try {
      await engine.warmUp();
      const tensorsBefore = tf.memory().numTensors;
      let maxInFlight = 0;
      let maxBuffered = 0;
      const rss: number[] = [];
      const summary = await runExport(engine, {
        input: looped,
        output: join(tmp.dir, 'looped.saliency.mp4'),
        every: 38,
        render,
        onFrame: (done, _info, q) => {
          maxInFlight = Math.max(maxInFlight, q.inFlight);
          maxBuffered = Math.max(maxBuffered, q.decoderBuffered);
          if (done % 100 === 0) rss.push(process.memoryUsage().rss);
        },
      });
      console.log(`looped export: ${summary.frames} frames, max in flight ${maxInFlight}, max decoder queue ${maxBuffered}, RSS MB ${rss.map((r) => Math.round(r / 2 ** 20)).join(' ')}`);
      expect(summary.frames).toBe(760);
      expect(maxInFlight).toBeLessThanOrEqual(PIPELINE_WINDOW);
      expect(maxBuffered).toBeLessThanOrEqual(2);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      // No growth with length: the last RSS sample is within 64 MB of the second one.
      expect(rss.at(-1)! - rss[1]!).toBeLessThan(64 * 2 ** 20);
    } finally {
      engine.dispose();
    }
  }, 900_000);
});
