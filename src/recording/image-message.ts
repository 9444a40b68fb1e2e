// Camera messages → encoded image bytes. Three message types carry a compressed image:
//   foxglove.CompressedImage        (JSON or Protobuf)  { timestamp, frame_id, data, format }
//   sensor_msgs/msg/CompressedImage (ROS 2, CDR)        { header, format, data }
//   foxglove.CompressedVideo        (JSON or Protobuf)  { timestamp, frame_id, data, format }: one H.264
//                                   access unit (Annex B) per message, decoded by ffmpeg (mcap-video.ts)
import { CdrReader } from '@foxglove/cdr';
import { protobufFromBinaryDescriptor } from '@mcap/support';
import type protobuf from 'protobufjs';
import { UserError } from '../errors.js';
import type { RecordingChannel } from './mcap-read.js';

export const FOXGLOVE_IMAGE = 'foxglove.CompressedImage';
export const ROS2_IMAGE = 'sensor_msgs/msg/CompressedImage';
export const FOXGLOVE_VIDEO = 'foxglove.CompressedVideo';
const IMAGE_SCHEMAS = new Set([FOXGLOVE_IMAGE, ROS2_IMAGE, FOXGLOVE_VIDEO, 'sensor_msgs/CompressedImage', 'foxglove.RawImage', 'sensor_msgs/msg/Image']);

export interface EncodedImage {
  /** As the message says it: jpeg, png, webp, or a ROS string such as "bgr8; jpeg compressed bgr8". */
  format: string;
  data: Uint8Array;
}

export type ImageDecoder = (message: Uint8Array) => EncodedImage;

/** Channels that carry camera images of any kind (supported or not): what --topic chooses among. */
export function isImageChannel(ch: RecordingChannel): boolean {
  return IMAGE_SCHEMAS.has(ch.schemaName);
}

/** A decoder for the channel's messages, or a UserError naming what is not supported. */
export function imageDecoderFor(ch: RecordingChannel): ImageDecoder {
  const what = `topic ${ch.topic} (${ch.schemaName || 'no schema'}, ${ch.messageEncoding})`;
  // CompressedVideo has CompressedImage's fields, so one decoder reads both.
  const foxglove = ch.schemaName === FOXGLOVE_IMAGE || ch.schemaName === FOXGLOVE_VIDEO;
  if (foxglove && ch.messageEncoding === 'json') return decodeFoxgloveJson;
  if (foxglove && ch.messageEncoding === 'protobuf') return protobufDecoder(ch, what);
  if (ch.schemaName === ROS2_IMAGE && ch.messageEncoding === 'cdr') return decodeRos2Cdr;
  throw new UserError(`${what}: unsupported schema or encoding; supported: ${FOXGLOVE_IMAGE} and ${FOXGLOVE_VIDEO} (json, protobuf), ${ROS2_IMAGE} (cdr)`);
}

function decodeFoxgloveJson(message: Uint8Array): EncodedImage {
  const obj = JSON.parse(Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8')) as { data?: unknown; format?: unknown };
  // Foxglove's JSON encoding carries `bytes` fields as base64 strings.
  if (typeof obj.data !== 'string') throw new Error('JSON message without a base64 "data" field');
  return { format: typeof obj.format === 'string' ? obj.format : '', data: Buffer.from(obj.data, 'base64') };
}

function decodeRos2Cdr(message: Uint8Array): EncodedImage {
  const r = new CdrReader(message);
  r.int32(); // header.stamp.sec
  r.uint32(); // header.stamp.nanosec
  r.string(); // header.frame_id
  const format = r.string();
  const data = r.uint8Array();
  return { format, data };
}

function protobufDecoder(ch: RecordingChannel, what: string): ImageDecoder {
  let type: protobuf.Type;
  try {
    type = protobufFromBinaryDescriptor(ch.schemaData).lookupType(ch.schemaName);
  } catch (err) {
    throw new UserError(`${what}: its Protobuf schema cannot be read (${err instanceof Error ? err.message : String(err)})`);
  }
  return (message) => {
    const obj = type.decode(message) as unknown as { data?: Uint8Array; format?: string };
    return { format: obj.format ?? '', data: obj.data ?? new Uint8Array(0) };
  };
}
