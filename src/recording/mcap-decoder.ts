// An MCAP camera topic as a video source: the same Decoder interface as the ffmpeg decoder, frames carrying
// their log time (seconds from the topic's first message; the absolute start is in info.recording).
import sharp from 'sharp';
import { UserError, oneLine } from '../errors.js';
import type { Frame } from '../types.js';
import type { DecodeOptions, DecodeResult, Decoder } from '../video/decode.js';
import type { SourceInfo } from '../video/probe.js';
import { FOXGLOVE_VIDEO, imageDecoderFor, isImageChannel, type ImageDecoder } from './image-message.js';
import { videoPictures } from './mcap-video.js';
import { parseRecordingInput } from './input-name.js';
import { openRecording, type Recording, type RecordingChannel } from './mcap-read.js';

/** Images larger than this are refused rather than exhausting memory (as for still images). */
const MAX_PIXELS = 8192 * 8192;
/** A camera topic spanning more than this is not one drive: its log times are corrupt or made up. */
const MAX_SPAN_NS = 30n * 86_400n * 1_000_000_000n;
/** No camera sends more: a summary claiming more messages than this rate allows is not believed. */
const MAX_FPS = 1000;

const isoOf = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();

interface Opened {
  recording: Recording;
  channel: RecordingChannel;
  decode: ImageDecoder;
}

async function openTopic(input: string): Promise<Opened> {
  const { path, topic } = parseRecordingInput(input);
  const recording = await openRecording(path);
  try {
    const channel = pickChannel(path, recording.channels, topic, recording.problem);
    return { recording, channel, decode: imageDecoderFor(channel) };
  } catch (err) {
    await recording.close();
    throw err;
  }
}

/**
 * The channel `topic` names, or the only image channel; a UserError listing the choices otherwise. When the
 * file is broken (`problem`) and the topic is not found, the break is the reason given.
 */
export function pickChannel(path: string, channels: RecordingChannel[], topic: string | undefined, problem?: string): RecordingChannel {
  const images = channels.filter(isImageChannel);
  if (problem && (topic === undefined ? images.length === 0 : !channels.some((c) => c.topic === topic))) {
    throw new UserError(`${problem}; no ${topic === undefined ? 'camera image topic' : `topic ${topic}`} before that point`);
  }
  const list = (chs: RecordingChannel[]): string => chs.map((c) => `${c.topic} (${c.schemaName || 'no schema'})`).join(', ');
  if (topic !== undefined) {
    const ch = channels.find((c) => c.topic === topic);
    if (!ch) throw new UserError(`${path}: no topic ${topic}; ${images.length ? `image topics: ${list(images)}` : `topics: ${list(channels) || 'none'}`}`);
    return ch;
  }
  if (images.length === 1) return images[0]!;
  if (images.length === 0) throw new UserError(`${path}: no camera image topic (topics: ${list(channels) || 'none'})`);
  throw new UserError(`${path}: ${images.length} image topics, pick one with --topic: ${list(images)}`);
}

/** Decodes one message's image to packed RGB at the given size (or its own size when none is given). */
async function toRgb(img: Uint8Array, size?: { width: number; height: number }): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  let pipeline = sharp(img, { limitInputPixels: MAX_PIXELS, failOn: 'error' }).removeAlpha().toColourspace('srgb');
  // A camera that changes resolution mid-drive: keep the first size, as the encoders need one size.
  if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** A decoded picture of another size, scaled to `size` (a stream whose resolution changes). */
async function toRgbRaw(pic: { rgb: Uint8Array; width: number; height: number }, size: { width: number; height: number }): Promise<{ rgb: Uint8Array }> {
  const data = await sharp(pic.rgb, { raw: { width: pic.width, height: pic.height, channels: 3 } }).resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer();
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export async function probeRecording(input: string): Promise<SourceInfo> {
  const { recording, channel, decode } = await openTopic(input);
  try {
    return await describe(input, recording, channel, decode);
  } finally {
    await recording.close();
  }
}

async function describe(input: string, recording: Recording, channel: RecordingChannel, decode: ImageDecoder): Promise<SourceInfo> {
  const what = `${recording.path} topic ${channel.topic}`;
  const range = await recording.timeRange(channel.id);
  let first: Uint8Array | undefined;
  for await (const m of recording.messages(channel.id)) {
    first = m.data;
    break;
  }
  if (!range || !first) throw new UserError(`${what}: no messages${recording.problem ? ` (${recording.problem.replace(`${recording.path}: `, '')})` : ''}`);
  if (range.last - range.first > MAX_SPAN_NS) {
    throw new UserError(`${what}: log times run from ${isoOf(range.first)} to ${isoOf(range.last)}, more than 30 days: not one drive (corrupt log times)`);
  }
  let width = 0;
  let height = 0;
  try {
    if (channel.schemaName === FOXGLOVE_VIDEO) {
      const pictures = videoPictures(recording, channel, decode);
      const p = await pictures.next();
      await pictures.return(undefined);
      if (p.done) throw new Error(p.value ?? 'no picture');
      ({ width, height } = p.value);
    } else ({ width, height } = await toRgb(decode(first).data));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${what}: the first ${channel.schemaName === FOXGLOVE_VIDEO ? 'picture' : 'image'} cannot be decoded (${oneLine(err)})`);
  }
  const duration = Number(range.last - range.first) / 1e9;
  // An index's message count is only a claim (a file's own Statistics record): checked against the time span,
  // as it sizes progress and fleet segment plans. A streamed file's count was counted.
  const claimed = channel.messageCount;
  const count = claimed <= Math.floor(duration * MAX_FPS) + 1 ? claimed : 0;
  return {
    input,
    width,
    height,
    // Average rate over the topic; frames keep their own log times.
    fps: count > 1 && duration > 0 ? (count - 1) / duration : 0,
    ...(count > 0 ? { frameCount: count, frameCountExact: true } : { frameCountExact: false }),
    duration: count > 1 && duration > 0 ? duration * (count / (count - 1)) : 0,
    rotation: 0,
    hasAudio: false,
    codec: channel.schemaName,
    live: false,
    kind: 'file',
    recording: { path: recording.path, topic: channel.topic, schema: channel.schemaName, startNs: range.first },
  };
}

export async function openRecordingDecoder(input: string, opts: DecodeOptions = {}): Promise<Decoder> {
  const { recording, channel, decode } = await openTopic(input);
  let info: SourceInfo;
  try {
    info = { ...(opts.info?.recording ? opts.info : await describe(input, recording, channel, decode)) };
  } catch (err) {
    await recording.close();
    throw err;
  }
  const startNs = info.recording!.startNs;
  const from = startNs + BigInt(Math.round(Math.max(0, opts.start ?? 0) * 1e9));
  const until = opts.duration && opts.duration > 0 ? from + BigInt(Math.round(opts.duration * 1e9)) : undefined;
  const size = { width: info.width, height: info.height };

  let delivered = 0;
  let stopped = false;
  let ended = false;
  let badImage: string | undefined;
  let iterating = false;
  let closed = false;
  let finish: () => void = () => undefined;
  const over = new Promise<void>((r) => (finish = r));

  const closeOnce = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await recording.close();
  };

  async function* frames(): AsyncGenerator<Frame> {
    if (iterating) throw new Error('a Decoder can be iterated only once');
    iterating = true;
    try {
      if (channel.schemaName === FOXGLOVE_VIDEO) {
        const pictures = videoPictures(recording, channel, decode, until);
        let p = await pictures.next();
        for (; !p.done; p = await pictures.next()) {
          if (stopped) {
            await pictures.return(undefined);
            return;
          }
          const pic = p.value;
          if (pic.logTime < from) continue;
          const rgb = pic.width === size.width && pic.height === size.height ? pic.rgb : (await toRgbRaw(pic, size)).rgb;
          delivered++;
          yield { index: pic.index, time: Number(pic.logTime - startNs) / 1e9, width: size.width, height: size.height, rgb };
        }
        if (p.value) badImage ??= `${recording.path} topic ${channel.topic}: ${p.value}`;
        ended = true;
        if (delivered === 0 && (recording.problem || badImage)) throw new UserError(`${input}: no frame could be decoded (${recording.problem ?? badImage})`);
        return;
      }
      let index = -1;
      for await (const m of recording.messages(channel.id)) {
        index++;
        if (stopped) return;
        if (m.logTime < from) continue;
        if (until !== undefined && m.logTime >= until) break;
        let rgb: Uint8Array;
        try {
          ({ rgb } = await toRgb(decode(m.data).data, size));
        } catch (err) {
          // One unreadable image: skip it, and report the run as incomplete.
          badImage ??= `${recording.path} topic ${channel.topic}: message ${index} is not a readable image (${oneLine(err)})`;
          continue;
        }
        delivered++;
        yield { index, time: Number(m.logTime - startNs) / 1e9, width: size.width, height: size.height, rgb };
      }
      ended = true;
      if (delivered === 0 && (recording.problem || badImage)) throw new UserError(`${input}: no frame could be decoded (${recording.problem ?? badImage})`);
    } finally {
      if (!ended) stopped = true;
      await closeOnce();
      finish();
    }
  }

  const done: Promise<DecodeResult> = over.then(() => {
    const error = recording.problem ?? badImage;
    return { frames: delivered, complete: !stopped && !error, ...(error ? { error } : {}), dropped: 0, closed: stopped };
  });

  const iterable = frames();
  return {
    info,
    buffered: 0,
    peakBuffered: 0,
    dropped: 0,
    pid: undefined,
    done,
    async close() {
      if (!ended) stopped = true;
      if (!iterating) {
        await closeOnce();
        finish();
      } else await iterable.return(undefined);
    },
    [Symbol.asyncIterator]() {
      return iterable;
    },
  };
}
