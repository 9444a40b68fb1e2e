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
import { T0, logTimes, readMcap, sampleH264Units, sampleJpegs, writeRecording, type Encoding } from './helpers/mcap-fixtures.js';
import { stubEngine } from './helpers/stub-engine.js';
import { TestClient } from './helpers/ws-client.js';
import { startServer } from '../src/server/index.js';

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
  const cases: [Encoding, 'zstd' | 'lz4' | 'chunked' | 'unchunked'][] = [
    ['foxglove-json', 'unchunked'],
    ['foxglove-protobuf', 'zstd'],
    ['ros2-cdr', 'chunked'],
    ['foxglove-json', 'lz4'],
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

  it('foxglove.CompressedVideo (H.264): one frame per message, at its log time', async () => {
    const units = await sampleH264Units(join(tmp.dir, 'src'), N);
    expect(units).toHaveLength(N);
    const path = rec('video.mcap');
    const times = await writeRecording(path, units, { encoding: 'foxglove-video' });
    const info = await probeSource(path);
    expect([info.width, info.height, info.frameCount]).toEqual([size.width, size.height, N]);
    const d = await openDecoder(path);
    const frames = [];
    for await (const f of d) frames.push(f);
    expect(await d.done).toMatchObject({ frames: N, complete: true });
    expect(frames.map((f) => f.time)).toEqual(times.map((t) => Number(t - T0) / 1e9));
    // Lossy twice (JPEG source, H.264): compare with the JPEG decode loosely.
    const ref = await rgbOf(jpegs[1]!);
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff += Math.abs(ref[i]! - frames[1]!.rgb[i]!);
    expect(diff / ref.length).toBeLessThan(8);
  });

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
    const raw = rec('raw.mcap');
    await writeRecording(raw, jpegs.slice(0, 1), { encoding: 'foxglove-json', topic: '/camera/raw' });
    await expect(probeSource(`${raw}#/gps`)).rejects.toThrow(/no topic \/gps; image topics: \/camera\/raw/);
    const rawImage = rec('rawimage.mcap');
    await writeRecording(rawImage, jpegs.slice(0, 1), { encoding: 'foxglove-raw' });
    await expect(probeSource(rawImage)).rejects.toThrow(/topic \/camera\/front\/image \(foxglove.RawImage, json\): unsupported schema or encoding; supported: /);
    const notMcap = rec('not.mcap');
    await copyFile(join(tmp.dir, 'src', 'src_001.jpg'), notMcap);
    await expect(probeSource(notMcap)).rejects.toThrow(/not an MCAP file/);
  });
});

describe('export to MCAP (stub engine)', () => {
  it('overlays, per-class maps, annotations and records, each message at its source log time', async () => {
    const input = rec('in-export.mcap');
    const times = await writeRecording(input, jpegs, { encoding: 'ros2-cdr', layout: 'zstd', withOtherTopic: true });
    const out = rec('out.saliency.mcap');
    const sidecar = rec('out.ndjson');
    const s = await runExport(stubEngine(), { input, output: out, sidecar, render, every: 2 });
    expect(s).toMatchObject({ frames: N, complete: true, exitCode: 0 });
    const { reader, byTopic, schemaOf, channelOf } = await readMcap(out);
    expect(reader.chunkIndexes.every((c) => c.compression === 'zstd')).toBe(true);
    expect([...byTopic.keys()].sort()).toEqual(['/saliency/detections', '/saliency/map/car', '/saliency/map/truck', '/saliency/overlay', '/saliency/record']);
    for (const [topic, msgs] of byTopic) {
      expect(msgs.map((m) => m.logTime), topic).toEqual(times);
      expect(Number(reader.statistics!.channelMessageCounts.get(channelOf(topic)!.id)), topic).toBe(N);
    }
    expect(schemaOf('/saliency/overlay')).toMatchObject({ name: 'foxglove.CompressedImage', encoding: 'protobuf' });
    expect(channelOf('/saliency/overlay')!.messageEncoding).toBe('protobuf');
    expect(schemaOf('/saliency/map/car')!.name).toBe('foxglove.CompressedImage');
    expect(schemaOf('/saliency/detections')).toMatchObject({ name: 'foxglove.ImageAnnotations', encoding: 'jsonschema' });
    expect(schemaOf('/saliency/record')).toMatchObject({ name: 'saliencam.FrameRecord', encoding: 'jsonschema' });

    // Images decode with the schema stored in the file (as Foxglove does) and have the source's size.
    const type = protobufFromBinaryDescriptor(schemaOf('/saliency/overlay')!.data).lookupType('foxglove.CompressedImage');
    for (const topic of ['/saliency/overlay', '/saliency/map/car']) {
      for (const [i, m] of byTopic.get(topic)!.entries()) {
        const img = type.toObject(type.decode(m.data), { longs: String }) as { data: Uint8Array; format: string; timestamp: { seconds: string; nanos: number } };
        expect(BigInt(img.timestamp.seconds) * 1_000_000_000n + BigInt(img.timestamp.nanos)).toBe(times[i]);
        const meta = await sharp(img.data).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual([topic.endsWith('overlay') ? 'jpeg' : 'png', size.width, size.height]);
      }
    }
    const ann = JSON.parse(new TextDecoder().decode(byTopic.get('/saliency/detections')![1]!.data)) as { points: { type: number; points: unknown[] }[]; texts: { text: string }[] };
    expect(ann.points).toHaveLength(3);
    expect(ann.points[0]).toMatchObject({ type: 2, points: [{ x: 100, y: 300 }, { x: 400, y: 300 }, { x: 400, y: 500 }, { x: 100, y: 500 }] });
    expect(ann.texts.map((t) => t.text)).toEqual(['car 0.90', 'car 0.70', 'truck 0.60']);
    const records = byTopic.get('/saliency/record')!.map((m) => JSON.parse(new TextDecoder().decode(m.data)) as { frame: number; time: number });
    const side = (await readFile(sidecar, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { frame: number; time: number });
    expect(records.map((r) => r.time)).toEqual(times.map((t) => Number(t - T0) / 1e9));
    expect(side.map((r) => [r.frame, r.time])).toEqual(records.map((r) => [r.frame, r.time]));
  });

  it('a truncated recording: a complete MCAP of the frames that were there, exit code 3', async () => {
    const input = rec('cut-export.mcap');
    await writeRecording(input, [...jpegs, ...jpegs], { encoding: 'foxglove-json', layout: 'zstd' });
    await truncate(input, Math.floor((await stat(input)).size * 0.6));
    const out = rec('cut.saliency.mcap');
    const s = await runExport(stubEngine(), { input, output: out, render });
    expect(s.exitCode).toBe(3);
    expect(s.warning).toMatch(/input ended early after \d+ frames .*truncated/);
    const { byTopic } = await readMcap(out);
    const overlay = byTopic.get('/saliency/overlay')!;
    expect(overlay.length).toBe(s.frames);
    expect(overlay.map((m) => m.logTime)).toEqual([...logTimes(N), ...logTimes(N)].slice(0, s.frames));
    expect((await readdir(tmp.dir)).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});

describe('export to MCAP, interrupted (stub engine)', () => {
  it('Ctrl-C after the first frame still leaves a complete, indexed MCAP of the frames so far', async () => {
    const input = rec('stop.mcap');
    // Eight frames: the frames in flight (up to PIPELINE_WINDOW) are finished after the stop.
    await writeRecording(input, [...jpegs, ...jpegs], { encoding: 'foxglove-protobuf' });
    const out = rec('stop.saliency.mcap');
    const stop = new AbortController();
    const s = await runExport(stubEngine(), { input, output: out, render, stop: stop.signal, onFrame: () => stop.abort() });
    expect(s).toMatchObject({ interrupted: true, exitCode: 130 });
    expect(s.frames).toBeLessThan(2 * N);
    const { byTopic } = await readMcap(out);
    expect(byTopic.get('/saliency/overlay')!.map((m) => m.logTime)).toEqual(logTimes(s.frames));
  });
});

describe('export to FiftyOne / COCO (stub engine)', () => {
  it("writes FiftyOne's COCODetectionDataset layout plus one heatmap per class and frame", async () => {
    const input = rec('in-fo.mcap');
    const times = await writeRecording(input, jpegs.slice(0, 3), { encoding: 'foxglove-protobuf' });
    const dir = rec('dataset');
    const s = await runExport(stubEngine(), { input, output: dir, format: 'fiftyone', render });
    expect(s).toMatchObject({ frames: 3, exitCode: 0 });
    expect((await readdir(dir)).sort()).toEqual(['README.md', 'data', 'heatmaps', 'labels.json', 'saliency.json']);
    // COCO detection format (cocodataset.org/#format-data) as FiftyOne's COCO importer reads it: images with
    // file_name relative to data/, annotations with bbox [x, y, w, h] in pixels and a score, categories.
    const coco = JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number; log_time_ns: string }[];
      annotations: { image_id: number; category_id: number; bbox: number[]; score: number; area: number; iscrowd: number }[];
      categories: { id: number; name: string }[];
    };
    // Every class of the model, with COCO's ids (test/coco-export.test.ts checks the whole table).
    expect(coco.categories).toHaveLength(80);
    expect(coco.categories.filter((c) => c.name === 'car' || c.name === 'truck')).toEqual([{ id: 3, name: 'car', supercategory: 'vehicle' }, { id: 8, name: 'truck', supercategory: 'vehicle' }]);
    expect(coco.images.map((i) => i.file_name)).toEqual(['frame_000000.jpg', 'frame_000001.jpg', 'frame_000002.jpg']);
    expect(coco.images.map((i) => BigInt(i.log_time_ns))).toEqual(times);
    expect(coco.annotations).toHaveLength(9);
    expect(coco.annotations[0]).toMatchObject({ image_id: 1, category_id: 3, bbox: [100, 300, 300, 200], area: 60000, iscrowd: 0, score: 0.9 });
    for (const img of coco.images) {
      const meta = await sharp(join(dir, 'data', img.file_name)).metadata();
      expect([meta.width, meta.height]).toEqual([img.width, img.height]);
    }
    const sal = JSON.parse(await readFile(join(dir, 'saliency.json'), 'utf8')) as { frames: { file_name: string; heatmaps: Record<string, string> }[] };
    expect(sal.frames).toHaveLength(3);
    for (const f of sal.frames) {
      expect(Object.keys(f.heatmaps).sort()).toEqual(['car', 'truck']);
      for (const p of Object.values(f.heatmaps)) {
        const meta = await sharp(join(dir, p)).metadata();
        expect([meta.format, meta.channels, meta.width, meta.height]).toEqual(['png', 1, size.width, size.height]);
      }
    }
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain('fo.Heatmap(map_path=');
    await expect(runExport(stubEngine(), { input, output: dir, format: 'fiftyone', render })).rejects.toThrow(/already exists/);
  });
});

describe('the dashboard on a recording (stub engine)', () => {
  it('plays the topic with frame times from the log', async () => {
    const input = rec('serve.mcap');
    const times = await writeRecording(input, jpegs, { encoding: 'foxglove-protobuf', withOtherTopic: true });
    const server = await startServer({ source: input, engine: stubEngine(), port: 0, quality: 70, autoplay: true });
    try {
      const c = await TestClient.connect(`ws://127.0.0.1:${server.port}/ws`);
      const hello = await c.next('hello');
      expect(hello.source).toMatchObject({ kind: 'file', seekable: true, width: size.width, height: size.height, frameCount: N });
      const last = await c.frame((f) => f.meta.frame === N - 1, { timeoutMs: 30_000 });
      expect(c.frames.map((f) => f.meta.time).slice(0, N)).toEqual(times.map((t) => Math.round(Number(t - T0) / 1e6) / 1000));
      const meta = await sharp(last.image).metadata();
      expect([meta.width, meta.height]).toEqual([size.width, size.height]);
      c.ws.close();
    } finally {
      await server.close();
    }
  });
});

describe('CLI on recordings (real model)', () => {
  it('export -o x.mcap: the cars as ImageAnnotations at the input log times; topic errors before the model loads', async () => {
    const input = rec('cli.mcap');
    const times = await writeRecording(input, jpegs, { encoding: 'ros2-cdr', extraImageTopics: ['/camera/rear/image'] });
    const two = await runCli(['export', input, '-o', rec('x.mcap'), '-q']);
    expect(two.code).toBe(2);
    expect(expectOneLineError(two)).toMatch(/2 image topics, pick one with --topic/);
    const bad = await runCli(['export', clipPathOf('src_001.jpg'), '--topic', '/cam', '-o', rec('x.mcap'), '-q']);
    expect(expectOneLineError(bad)).toMatch(/only an .mcap recording has topics/);
    const out = rec('cli.saliency.mcap');
    const r = await runCli(['export', input, '--topic', '/camera/front/image', '-o', out, '--every', '2', '--workers', '0', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const { byTopic } = await readMcap(out);
    expect(byTopic.get('/saliency/overlay')!.map((m) => m.logTime)).toEqual(times);
    const ann = byTopic.get('/saliency/detections')!.map((m) => JSON.parse(new TextDecoder().decode(m.data)) as { texts: { text: string }[] });
    expect(ann[0]!.texts.some((t) => t.text.startsWith('car '))).toBe(true);
    expect([...byTopic.keys()]).toContain('/saliency/map/car');
  });

  it('explain and audit take a recording too', async () => {
    const input = rec('cli-one.mcap');
    await writeRecording(input, jpegs.slice(0, 2), { encoding: 'foxglove-json' });
    const json = rec('explain.json');
    const e = await runCli(['explain', input, '--json', json, '-q']);
    expect(e.code, e.stderr).toBe(0);
    const record = JSON.parse(await readFile(json, 'utf8')) as { width: number; detections: { label: string }[] };
    expect(record.width).toBe(size.width);
    expect(record.detections.some((d) => d.label === 'car')).toBe(true);
    const auditJson = rec('audit.json');
    const a = await runCli(['audit', input, '--json', auditJson, '--every', '1', '--max-frames', '1', '--methods', 'xgradcam', '--steps', '2', '--samples', '0', '--random-maps', '1', '--gallery', '0', '-q']);
    expect(a.code, a.stderr).toBe(0);
    const audit = JSON.parse(await readFile(auditJson, 'utf8')) as { framesSampled: number; detections: unknown[] };
    expect(audit.framesSampled).toBe(1);
    expect(audit.detections.length).toBeGreaterThan(0);
  });
});

function clipPathOf(name: string): string {
  return join(tmp.dir, 'src', name);
}
