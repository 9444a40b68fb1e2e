// MCAP recordings in and out, and the FiftyOne/COCO export. Recordings are written here from the sample
// drive (helpers/mcap-fixtures.ts) in each encoding a recorder produces; outputs are read back with
// @mcap/core's reader. Most checks run the export pipeline with the stub engine (the subject is the format,
// not the model); one CLI run per command goes end to end with the real model.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../src/pipeline/export.js';
import { openDecoder, probeSource } from '../src/video/index.js';
import { compressedImageProtobuf } from '../src/recording/foxglove-schemas.js';
import { protobufFromBinaryDescriptor } from '@mcap/support';
import { expectOneLineError, runCli } from './helpers/cli.js';
import { useTmpDir } from './helpers/clips.js';
import { T0, logTimes, readMcap, sampleJpegs, writeRecording, type Encoding } from './helpers/mcap-fixtures.js';
import { stubEngine } from './helpers/stub-engine.js';

const tmp = useTmpDir('saliencam-mcap-');
const N = 4;
const render = { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true } as const;
let jpegs: Uint8Array[];
let size: { width: number; height: number };
const rec = (name: string) => join(tmp.dir, name);

beforeAll(async () => {
  await mkdir(join(tmp.dir, 'src'), { recursive: true });
  jpegs = await sampleJpegs(join(tmp.dir, 'src'), N);
  const meta = await sharp(jpegs[0]!).metadata();
  size = { width: meta.width!, height: meta.height! };
});

async function rgbOf(jpeg: Uint8Array): Promise<Buffer> {
  return sharp(jpeg).removeAlpha().raw().toBuffer();
}

describe('MCAP input', () => {
  const cases: [Encoding, 'zstd' | 'chunked' | 'unchunked'][] = [
    ['foxglove-json', 'unchunked'],
    ['foxglove-protobuf', 'zstd'],
    ['ros2-cdr', 'chunked'],
  ];
  for (const [encoding, layout] of cases) {
    it(`${encoding} (${layout}): every frame, pixels as decoded from the JPEG, times from the log`, async () => {
      const path = rec(`${encoding}-${layout}.mcap`);
      const times = await writeRecording(path, jpegs, { encoding, layout, withOtherTopic: true });
      const info = await probeSource(path);
      expect([info.width, info.height, info.frameCount]).toEqual([size.width, size.height, N]);
      expect(info.recording).toMatchObject({ topic: '/camera/front/image', startNs: T0 });
      expect(info.duration! * 1000).toBeCloseTo((Number(times[N - 1]! - T0) / 1e6) * (N / (N - 1)), 3);
      const d = await openDecoder(path);
      const frames = [];
      for await (const f of d) frames.push(f);
      const done = await d.done;
      expect(done).toMatchObject({ frames: N, complete: true });
      expect(frames.map((f) => f.index)).toEqual([0, 1, 2, 3]);
      expect(frames.map((f) => f.time)).toEqual(times.map((t) => Number(t - T0) / 1e9));
      expect(Buffer.from(frames[2]!.rgb).equals(await rgbOf(jpegs[2]!))).toBe(true);
    });
  }

  it('--start / --duration select by log time; a truncated recording yields its whole chunks and says so', async () => {
    const path = rec('start.mcap');
    await writeRecording(path, jpegs, { encoding: 'foxglove-protobuf', layout: 'chunked' });
    const d = await openDecoder(path, { start: 0.05, duration: 0.1 });
    const got = [];
    for await (const f of d) got.push([f.index, f.time]);
    expect(got).toEqual([[2, 0.095], [3, 0.13]]);

    const cut = rec('cut.mcap');
    await writeRecording(cut, [...jpegs, ...jpegs], { encoding: 'foxglove-protobuf', layout: 'zstd' });
    const full = (await stat(cut)).size;
    await truncate(cut, Math.floor(full * 0.7));
    const t = await openDecoder(cut);
    let n = 0;
    for await (const f of t) expect(f.width).toBe(size.width), n++;
    const done = await t.done;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(2 * N);
    expect(done.complete).toBe(false);
    expect(done.error).toMatch(/truncated/);
  });

  it('topic choice: the only image topic by default, --topic among several, one-line errors otherwise', async () => {
    const two = rec('two.mcap');
    await writeRecording(two, jpegs.slice(0, 2), { encoding: 'foxglove-json', extraImageTopics: ['/camera/rear/image'] });
    await expect(probeSource(two)).rejects.toThrow(/2 image topics, pick one with --topic: \/camera\/front\/image \(foxglove.CompressedImage\), \/camera\/rear\/image/);
    expect((await probeSource(`${two}#/camera/rear/image`)).recording?.topic).toBe('/camera/rear/image');
    await expect(probeSource(`${two}#/nope`)).rejects.toThrow(/no topic \/nope; image topics: /);
    const video = rec('video.mcap');
    await writeRecording(video, jpegs.slice(0, 1), { encoding: 'foxglove-video' });
    await expect(probeSource(video)).rejects.toThrow(/foxglove.CompressedVideo.*H.264 video messages are not supported/);
    const notMcap = rec('not.mcap');
    await copyFile(join(tmp.dir, 'src', 'src_001.jpg'), notMcap);
    await expect(probeSource(notMcap)).rejects.toThrow(/not an MCAP file/);
  });
});
