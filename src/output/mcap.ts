// `export … -o drive.saliency.mcap`: the explained drive as an MCAP recording for Foxglove. Every message
// carries the source frame's log time, so overlays, maps and detections line up with the original drive:
//   /saliency/overlay        foxglove.CompressedImage (Protobuf, JPEG)  the rendered overlay
//   /saliency/map/<class>    foxglove.CompressedImage (Protobuf, PNG)   the raw map, 8-bit gray, frame size
//   /saliency/detections     foxglove.ImageAnnotations (JSON)           boxes and labels
//   /saliency/record         saliencam.FrameRecord (JSON)              the per-frame record (as the sidecar)
// Written to an atomic target (video/atomic.ts): a temp file, fsynced and renamed on finish.
import { McapWriter } from '@mcap/core';
import zstd from '@foxglove/wasm-zstd';
import { compressedImageProtobuf, imageAnnotationsJson } from '../recording/foxglove-schemas.js';
import { classColor, encodeImage } from '../render/index.js';
import type { Detection, RenderedFrame } from '../types.js';
import type { SourceInfo } from '../video/probe.js';
import { mapName, mapToPng } from './map-image.js';
import { frameLogTime, type FrameOutput, type OutputFormatRow } from './output.js';
import { asWriteError, checkOutputPath, finishAtomic, openAtomic } from '../video/atomic.js';

export const TOPICS = { overlay: '/saliency/overlay', detections: '/saliency/detections', record: '/saliency/record', mapPrefix: '/saliency/map/' } as const;
const FRAME_ID = 'camera';

const RECORD_SCHEMA = {
  title: 'saliencam.FrameRecord',
  description: 'saliencam per-frame record: detections and saliency statistics (README: JSON record)',
  type: 'object',
  properties: {
    source: { type: 'string' },
    frame: { type: 'integer' },
    time: { type: 'number' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    model: { type: 'string' },
    backend: { type: 'string' },
    method: { type: 'string' },
    methodParams: { type: 'object' },
    detections: { type: 'array', items: { type: 'object' } },
    saliency: { type: 'array', items: { type: 'object' } },
    timing: { type: 'object' },
  },
};

/** JPEG quality of the overlay frames. */
const OVERLAY_QUALITY = 90;

/** The output table's row (index.ts). */
export const mcapOutput: OutputFormatRow = {
  title: 'an MCAP recording',
  help: 'MCAP recording (.mcap)',
  placeholder: 'file.mcap',
  extensions: ['.mcap'],
  misnamed: 'an MCAP recording is named .mcap',
  check: async (path) => void (await checkOutputPath(path)),
  open: (path, ctx) => openMcapOutput(path, ctx.info),
};

export async function openMcapOutput(path: string, info: SourceInfo): Promise<FrameOutput> {
  const target = await openAtomic(path, 'file');
  const fh = target.fh;
  await zstd.isLoaded;
  let position = 0n;
  const writable = {
    position: () => position,
    async write(buffer: Uint8Array) {
      await fh.write(buffer);
      position += BigInt(buffer.byteLength);
    },
  };
  const writer = new McapWriter({
    writable,
    useChunks: true,
    chunkSize: 4 << 20,
    compressChunk: (data) => ({ compression: 'zstd', compressedData: zstd.compress(data, 3) }),
  });
  const image = compressedImageProtobuf();
  const json = new TextEncoder();
  let state: 'open' | 'finished' | 'aborted' = 'open';
  let chain: Promise<unknown> = Promise.resolve();

  const ready = (async () => {
    await writer.start({ profile: '', library: 'saliencam' });
    const imageSchema = await writer.registerSchema(image.schema);
    const annSchema = await writer.registerSchema(imageAnnotationsJson());
    const recordSchema = await writer.registerSchema({ name: 'saliencam.FrameRecord', encoding: 'jsonschema', data: json.encode(JSON.stringify(RECORD_SCHEMA)) });
    const meta = new Map<string, string>(info.recording ? [['source_topic', info.recording.topic], ['source', info.recording.path]] : [['source', info.input]]);
    const channel = (topic: string, schemaId: number, messageEncoding: string) => writer.registerChannel({ topic, schemaId, messageEncoding, metadata: meta });
    return {
      imageSchema,
      overlay: await channel(TOPICS.overlay, imageSchema, 'protobuf'),
      detections: await channel(TOPICS.detections, annSchema, 'json'),
      record: await channel(TOPICS.record, recordSchema, 'json'),
      maps: new Map<string, number>(),
      channel,
    };
  })();
  ready.catch(() => undefined);

  const sequence = new Map<number, number>();
  const add = async (channelId: number, logTime: bigint, data: Uint8Array): Promise<void> => {
    const seq = (sequence.get(channelId) ?? 0) + 1;
    sequence.set(channelId, seq);
    await writer.addMessage({ channelId, sequence: seq, logTime, publishTime: logTime, data });
  };

  async function writeFrame(r: RenderedFrame): Promise<void> {
    const ch = await ready;
    const frame = r.explained.frame;
    const logTime = frameLogTime(info, frame.time);
    const timestamp = { sec: Number(logTime / 1_000_000_000n), nsec: Number(logTime % 1_000_000_000n) };
    const jpeg = await encodeImage(r, 'jpeg', OVERLAY_QUALITY);
    await add(ch.overlay, logTime, image.encode({ timestamp, frame_id: FRAME_ID, data: jpeg, format: 'jpeg' }));
    for (const map of r.explained.maps) {
      const name = mapName(map);
      let id = ch.maps.get(name);
      if (id === undefined) {
        id = await ch.channel(`${TOPICS.mapPrefix}${name}`, ch.imageSchema, 'protobuf');
        ch.maps.set(name, id);
      }
      const png = await mapToPng(map, frame.width, frame.height);
      await add(id, logTime, image.encode({ timestamp, frame_id: FRAME_ID, data: png, format: 'png' }));
    }
    await add(ch.detections, logTime, json.encode(JSON.stringify(annotations(r.explained.detections, timestamp))));
    await add(ch.record, logTime, json.encode(JSON.stringify(r.explained.record)));
  }

  return {
    write(r) {
      if (state !== 'open') return Promise.reject(new Error(`MCAP output ${path} is already ${state}`));
      // One frame at a time: the writer's chunks and sequence numbers assume ordered calls.
      const next = chain.then(() => writeFrame(r));
      chain = next.catch(() => undefined);
      return next.catch((err: unknown) => {
        throw asWriteError(path, err);
      });
    },
    async finish() {
      if (state !== 'open') throw new Error(`MCAP output ${path} is already ${state}`);
      const last = async (): Promise<void> => {
        await chain;
        await ready;
        await writer.end();
      };
      await finishAtomic(target, last, { shown: path, aborted: () => void (state = 'aborted') });
      state = 'finished';
      return { path: target.path };
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await chain;
      await target.discard();
    },
  };
}

/** Boxes as closed outlines in the class colour, labels as text, per foxglove.ImageAnnotations. */
function annotations(detections: Detection[], timestamp: { sec: number; nsec: number }): unknown {
  const points = detections.map((d) => {
    const [x1, y1, x2, y2] = d.box;
    const c = classColor(d.classId, d.label);
    const color = { r: c.rgb[0] / 255, g: c.rgb[1] / 255, b: c.rgb[2] / 255, a: 1 };
    return {
      timestamp,
      type: 2, // LINE_LOOP
      points: [{ x: x1, y: y1 }, { x: x2, y: y1 }, { x: x2, y: y2 }, { x: x1, y: y2 }],
      outline_color: color,
      outline_colors: [],
      fill_color: { r: 0, g: 0, b: 0, a: 0 },
      thickness: 2,
      metadata: [],
    };
  });
  const texts = detections.map((d) => {
    const c = classColor(d.classId, d.label);
    return {
      timestamp,
      position: { x: d.box[0], y: Math.max(0, d.box[1] - 4) },
      text: `${d.label} ${d.score.toFixed(2)}`,
      font_size: 14,
      text_color: { r: 1, g: 1, b: 1, a: 1 },
      background_color: { r: c.rgb[0] / 255, g: c.rgb[1] / 255, b: c.rgb[2] / 255, a: 0.8 },
      metadata: [],
    };
  });
  return { timestamp, circles: [], points, texts, metadata: [] };
}
