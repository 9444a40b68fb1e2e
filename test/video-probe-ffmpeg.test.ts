// Probing with ffmpeg alone (the offline kit ships no ffprobe) must read what ffprobe reads, field for field,
// for the fields probe.ts uses.
import { describe, expect, it } from 'vitest';
import ffmpeg, { type FfprobeData } from 'fluent-ffmpeg';
import { locateFfmpeg } from '../src/video/ffmpeg-locate.js';
import { parseRate } from '../src/video/probe.js';
import { ffmpegProbe } from '../src/video/probe-ffmpeg.js';
import { clipPath, useTmpDir } from './helpers/clips.js';
import { audioOnly, rotatedClip, textAsMp4, variableRateClip, video } from './helpers/video-fixtures.js';

const tmp = useTmpDir();

function ffprobe(path: string): Promise<FfprobeData> {
  const loc = locateFfmpeg();
  if (!loc.ffprobe) throw new Error('these tests compare against ffprobe, which this install lacks');
  return new Promise((resolve, reject) => ffmpeg.ffprobe(path, (err: unknown, data: FfprobeData) => (err ? reject(err) : resolve(data))));
}

/** Clockwise display rotation as probe.ts derives it: ffmpeg 4.1 also writes a `rotate` tag, newer ffprobes only the matrix. */
function clockwise(tag: number | undefined, matrix: number | undefined): number {
  const cw = tag ?? (matrix !== undefined ? -matrix : 0);
  return (((Math.round(cw / 90) * 90) % 360) + 360) % 360;
}

/** What probe.ts reads from a probe, normalised so both tools' spellings compare. */
function used(data: FfprobeData) {
  // ffmpeg prints rates with two decimals.
  const rate = (r: unknown) => { const v = parseRate(r); return v === undefined ? undefined : Math.round(v * 100) / 100; };
  const num = (v: unknown) => (v === undefined || v === 'N/A' ? undefined : Number(v));
  return {
    format: data.format.format_name,
    duration: num(data.format.duration),
    streams: data.streams.map((s) => ({
      type: s.codec_type,
      codec: s.codec_name,
      ...(s.codec_type === 'video'
        ? { width: s.width, height: s.height, fps: rate(s.avg_frame_rate), tbr: rate(s.r_frame_rate), frames: num(s.nb_frames), rotation: clockwise(num(s.tags?.rotate), num(s.rotation)), cover: Number(s.disposition?.attached_pic ?? 0) }
        : {}),
    })),
  };
}

describe('ffmpegProbe', () => {
  it.each([
    ['the sample drive', () => video()],
    ['a still', () => clipPath('test1.jpg')],
    ['a rotated clip', () => rotatedClip(tmp.dir)],
    ['an audio-only file', () => audioOnly(tmp.dir)],
    ['a variable-rate clip', () => variableRateClip(tmp.dir)],
  ])('reads %s as ffprobe does', async (_what, make) => {
    const path = await make();
    const file = !path.endsWith('.jpg');
    const mine = used(await ffmpegProbe(locateFfmpeg().ffmpeg, path, [], file));
    const theirs = used(await ffprobe(path));
    expect(mine).toEqual(theirs);
  });

  it('rejects a file that is not a video with ffmpeg\'s reason', async () => {
    const path = await textAsMp4(tmp.dir);
    await expect(ffmpegProbe(locateFfmpeg().ffmpeg, path, [], true)).rejects.toThrow(/Invalid data/);
  });
});
