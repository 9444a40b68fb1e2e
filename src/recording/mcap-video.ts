// foxglove.CompressedVideo (H.264): the topic's access units are piped, in order, into the ffmpeg decoder
// (the same one that reads `-` from stdin), and the k-th decoded picture gets the k-th message's log time.
// Foxglove's schema asks for exactly one picture per message and no B-frames, which makes that pairing exact.
import { Readable } from 'node:stream';
import { UserError, oneLine } from '../errors.js';
import { openDecoder } from '../video/decode.js';
import type { ImageDecoder } from './image-message.js';
import type { Recording, RecordingChannel } from './mcap-read.js';

export interface TimedPicture {
  index: number;
  logTime: bigint;
  rgb: Uint8Array;
  width: number;
  height: number;
}

export async function* videoPictures(recording: Recording, channel: RecordingChannel, decode: ImageDecoder, until?: bigint): AsyncGenerator<TimedPicture, string | undefined> {
  const pending: { index: number; logTime: bigint }[] = [];
  let badMessage: string | undefined;
  // Thrown into the piped stream it would surface as the decoder's failure: kept here, thrown after it.
  let refused: UserError | undefined;
  async function* stream(): AsyncGenerator<Uint8Array> {
    let index = -1;
    for await (const m of recording.messages(channel.id)) {
      index++;
      if (until !== undefined && m.logTime >= until) break;
      let unit;
      try {
        unit = decode(m.data);
      } catch (err) {
        badMessage ??= `message ${index} cannot be read (${oneLine(err)})`;
        continue;
      }
      if (unit.format && unit.format.toLowerCase() !== 'h264') {
        refused = new UserError(`${recording.path} topic ${channel.topic}: video format "${unit.format}" is not supported (H.264 only)`);
        return;
      }
      if (unit.data.length === 0) continue;
      pending.push({ index, logTime: m.logTime });
      yield unit.data;
    }
  }
  const input = Readable.from(stream(), { objectMode: false });
  const stdinInfo = { input: '-', width: 0, height: 0, fps: 0, rotation: 0, hasAudio: false, codec: 'unknown', live: false, kind: 'stdin' as const };
  const decoder = await openDecoder('-', { stdin: input, info: stdinInfo });
  try {
    for await (const f of decoder) {
      const at = pending.shift();
      if (!at) break; // more pictures than messages: not the one-picture-per-message stream the schema asks for
      yield { index: at.index, logTime: at.logTime, rgb: f.rgb, width: f.width, height: f.height };
    }
  } catch (err) {
    throw refused ?? err;
  } finally {
    await decoder.close();
    input.destroy();
  }
  if (refused) throw refused;
  const result = await decoder.done;
  return badMessage ?? (result.complete ? undefined : result.error ?? 'the H.264 stream did not decode completely');
}
