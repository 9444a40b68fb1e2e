// Small MCAP recordings of the sample drive, written with @mcap/core the way recorders write them:
// foxglove.CompressedImage in JSON or Protobuf, ROS 2 sensor_msgs/msg/CompressedImage in CDR, chunked with
// zstd or not chunked, with or without a summary. Frames come from clips/test_video.mp4.
import { readFile, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CdrWriter } from '@foxglove/cdr';
import zstd from '@foxglove/wasm-zstd';
// @ts-expect-error lz4js ships no types: compress(Uint8Array) → an LZ4 frame, the format MCAP's lz4 chunks use.
import lz4 from 'lz4js';
import { McapIndexedReader, McapWriter, type McapTypes } from '@mcap/core';
import { loadDecompressHandlers } from '@mcap/support';
import { compressedImageProtobuf } from '../../src/recording/foxglove-schemas.js';
import { clipPath, ffmpegRun, TEST_VIDEO } from './clips.js';

/** A start time like a real drive's (ns since the epoch) and irregular gaps, so times must come from the log. */
export const T0 = 1_700_000_000_123_456_789n;
export const GAPS_MS = [0, 40, 95, 130, 170, 215, 250, 290];

export function logTimes(n: number): bigint[] {
  return GAPS_MS.slice(0, n).map((ms) => T0 + BigInt(ms) * 1_000_000n);
}

/** The first `n` frames of the sample drive as JPEG files (scaled to `width`), in `dir`. */
export async function sampleJpegs(dir: string, n: number, width = 640): Promise<Uint8Array[]> {
  await ffmpegRun(['-i', clipPath(TEST_VIDEO), '-frames:v', String(n), '-vf', `scale=${width}:-2`, '-q:v', '3', join(dir, 'src_%03d.jpg')]);
  const names = (await readdir(dir)).filter((f) => /^src_\d+\.jpg$/.test(f)).sort();
  return Promise.all(names.slice(0, n).map((f) => readFile(join(dir, f))));
}

/** The first `n` frames as H.264 access units (Annex B, no B-frames, one picture each), as CompressedVideo carries them. */
export async function sampleH264Units(dir: string, n: number, width = 640): Promise<Uint8Array[]> {
  const out = join(dir, 'units.h264');
  await ffmpegRun(['-i', clipPath(TEST_VIDEO), '-frames:v', String(n), '-vf', `scale=${width}:-2`, '-c:v', 'libx264', '-bf', '0', '-g', String(n), '-x264-params', 'aud=1', '-f', 'h264', out]);
  const data = await readFile(out);
  // Each access unit starts with an access unit delimiter NAL (type 9) after a 4-byte start code.
  const starts: number[] = [];
  for (let i = 0; i + 4 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 0 && data[i + 3] === 1 && (data[i + 4]! & 0x1f) === 9) starts.push(i);
  }
  return starts.map((s, k) => data.subarray(s, starts[k + 1] ?? data.length));
}

export type Encoding = 'foxglove-json' | 'foxglove-protobuf' | 'ros2-cdr' | 'foxglove-video' | 'foxglove-raw';

export interface RecordingSpec {
  encoding: Encoding;
  topic?: string;
  /** zstd-compressed chunks with a summary (default), uncompressed chunks, or no chunks at all. */
  layout?: 'zstd' | 'lz4' | 'chunked' | 'unchunked';
  /** Extra image topics (same frames) to make the topic choice ambiguous. */
  extraImageTopics?: string[];
  /** A non-image topic alongside (a recorder always has some). */
  withOtherTopic?: boolean;
  /** Log times of the messages (default: logTimes(n)). */
  times?: bigint[];
  /** CompressedVideo's format field (default h264). */
  videoFormat?: string;
}

export async function writeRecording(path: string, images: Uint8Array[], spec: RecordingSpec): Promise<bigint[]> {
  await zstd.isLoaded;
  const fh = await open(path, 'w');
  let position = 0n;
  const layout = spec.layout ?? 'zstd';
  const writer = new McapWriter({
    writable: {
      position: () => position,
      write: async (b: Uint8Array) => {
        await fh.write(b);
        position += BigInt(b.byteLength);
      },
    },
    useChunks: layout !== 'unchunked',
    chunkSize: 64 * 1024,
    ...(layout === 'zstd' ? { compressChunk: (data: Uint8Array) => ({ compression: 'zstd', compressedData: zstd.compress(data, 3) }) } : {}),
    ...(layout === 'lz4' ? { compressChunk: (data: Uint8Array) => ({ compression: 'lz4', compressedData: Uint8Array.from((lz4 as { compress(d: Uint8Array): number[] }).compress(data)) }) } : {}),
  });
  await writer.start({ profile: spec.encoding === 'ros2-cdr' ? 'ros2' : '', library: 'saliencam-test' });
  const topics = [spec.topic ?? '/camera/front/image', ...(spec.extraImageTopics ?? [])];
  const { schema, encodingName, encode } = encoderFor(spec.encoding, spec.videoFormat);
  const schemaId = await writer.registerSchema(schema);
  const channels = await Promise.all(topics.map((topic) => writer.registerChannel({ topic, schemaId, messageEncoding: encodingName, metadata: new Map() })));
  let other: number | undefined;
  if (spec.withOtherTopic) {
    const s = await writer.registerSchema({ name: 'foxglove.LocationFix', encoding: 'jsonschema', data: new TextEncoder().encode('{"type":"object"}') });
    other = await writer.registerChannel({ topic: '/gps', schemaId: s, messageEncoding: 'json', metadata: new Map() });
  }
  const times = spec.times ?? logTimes(images.length);
  for (let i = 0; i < images.length; i++) {
    const t = times[i]!;
    for (const ch of channels) {
      await writer.addMessage({ channelId: ch, sequence: i, logTime: t, publishTime: t, data: encode(images[i]!, t) });
    }
    if (other !== undefined) await writer.addMessage({ channelId: other, sequence: i, logTime: t + 1n, publishTime: t, data: new TextEncoder().encode('{"latitude":37.4,"longitude":-122.1}') });
  }
  await writer.end();
  await fh.close();
  return times;
}

function stamp(t: bigint): { sec: number; nsec: number } {
  return { sec: Number(t / 1_000_000_000n), nsec: Number(t % 1_000_000_000n) };
}

function encoderFor(encoding: Encoding, videoFormat = 'h264'): { schema: Omit<McapTypes.Schema, 'id'>; encodingName: string; encode: (img: Uint8Array, t: bigint) => Uint8Array } {
  const text = new TextEncoder();
  switch (encoding) {
    case 'foxglove-json':
      return {
        schema: { name: 'foxglove.CompressedImage', encoding: 'jsonschema', data: text.encode('{"type":"object"}') },
        encodingName: 'json',
        encode: (img, t) => text.encode(JSON.stringify({ timestamp: stamp(t), frame_id: 'cam', data: Buffer.from(img).toString('base64'), format: 'jpeg' })),
      };
    case 'foxglove-protobuf': {
      const pb = compressedImageProtobuf();
      return { schema: pb.schema, encodingName: 'protobuf', encode: (img, t) => pb.encode({ timestamp: stamp(t), frame_id: 'cam', data: img, format: 'jpeg' }) };
    }
    case 'ros2-cdr':
      return {
        schema: { name: 'sensor_msgs/msg/CompressedImage', encoding: 'ros2msg', data: text.encode('std_msgs/Header header\nstring format\nuint8[] data\n') },
        encodingName: 'cdr',
        encode: (img, t) => {
          const w = new CdrWriter();
          const s = stamp(t);
          w.int32(s.sec);
          w.uint32(s.nsec);
          w.string('camera_front');
          w.string('rgb8; jpeg compressed bgr8');
          w.uint8Array(img, true);
          return w.data;
        },
      };
    case 'foxglove-raw':
      return {
        schema: { name: 'foxglove.RawImage', encoding: 'jsonschema', data: text.encode('{"type":"object"}') },
        encodingName: 'json',
        encode: (_img, t) => text.encode(JSON.stringify({ timestamp: stamp(t), frame_id: 'cam', width: 2, height: 1, encoding: 'rgb8', step: 6, data: 'AAAAAAAA' })),
      };
    case 'foxglove-video':
      return {
        schema: { name: 'foxglove.CompressedVideo', encoding: 'jsonschema', data: text.encode('{"type":"object"}') },
        encodingName: 'json',
        encode: (unit, t) => text.encode(JSON.stringify({ timestamp: stamp(t), frame_id: 'cam', data: Buffer.from(unit).toString('base64'), format: videoFormat })),
      };
  }
}

/** An MCAP file read back with @mcap/core's indexed reader: its schemas, channels and messages by topic. */
export async function readMcap(path: string): Promise<{ reader: McapIndexedReader; byTopic: Map<string, McapTypes.Message[]>; schemaOf: (topic: string) => McapTypes.Schema | undefined; channelOf: (topic: string) => McapTypes.Channel | undefined }> {
  const data = await readFile(path);
  const reader = await McapIndexedReader.Initialize({
    readable: { size: async () => BigInt(data.length), read: async (o: bigint, n: bigint) => data.subarray(Number(o), Number(o + n)) },
    decompressHandlers: await loadDecompressHandlers(),
  });
  const byTopic = new Map<string, McapTypes.Message[]>();
  for await (const m of reader.readMessages()) {
    const topic = reader.channelsById.get(m.channelId)!.topic;
    if (!byTopic.has(topic)) byTopic.set(topic, []);
    byTopic.get(topic)!.push(m);
  }
  const channelOf = (topic: string) => [...reader.channelsById.values()].find((c) => c.topic === topic);
  return { reader, byTopic, channelOf, schemaOf: (topic) => reader.schemasById.get(channelOf(topic)?.schemaId ?? -1) };
}
