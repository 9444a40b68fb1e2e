import { describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT, UserError } from '../src/errors.js';
import { probeSource } from '../src/video/probe.js';
import { classifySource } from '../src/video/source.js';
import { useTmpDir } from './helpers/clips.js';
import {
  audioOnly,
  emptyMp4,
  pngSequence,
  rotatedClip,
  stillJpg,
  textAsMp4,
  video,
} from './helpers/video-fixtures.js';

const tmp = useTmpDir();

/** The UserError a probe rejects with (fails the test if it resolves or throws something else). */
async function probeError(input: string): Promise<UserError> {
  const err = await probeSource(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `probing ${input} should fail`).toBeInstanceOf(UserError);
  const ue = err as UserError;
  expect(ue.exitCode).toBe(EXIT.usage);
  expect(ue.message).not.toContain('\n');
  return ue;
}

describe('probeSource on the sample clip', () => {
  it('reads size, rate, length, audio and codec', async () => {
    const info = await probeSource(video());
    expect(info).toMatchObject({
      input: video(),
      width: 1280,
      height: 720,
      fps: 25,
      frameCount: 38,
      frameCountExact: true,
      rotation: 0,
      hasAudio: true,
      codec: 'h264',
      live: false,
      kind: 'file',
    });
    expect(info.duration).toBeCloseTo(1.52, 2);
  });

  it('reports the display size of a rotated video', async () => {
    const info = await probeSource(await rotatedClip(tmp.dir));
    expect([90, 270]).toContain(info.rotation);
    expect([info.width, info.height]).toEqual([720, 1280]);
  });

  it('treats a jpg as a one-frame image', async () => {
    const info = await probeSource(await stillJpg(tmp.dir));
    expect(info).toMatchObject({ kind: 'image', width: 1280, height: 720, frameCount: 1, fps: 0, hasAudio: false });
  });

  it('understands glob and printf image sequences', async () => {
    const dir = join(tmp.dir, 'seq');
    await mkdir(dir);
    await pngSequence(dir, 3);
    for (const pattern of [join(dir, '*.png'), join(dir, 'frame_%04d.png')]) {
      const info = await probeSource(pattern);
      expect(info, pattern).toMatchObject({ kind: 'sequence', width: 1280, height: 720, frameCount: 3, fps: 25 });
    }
  });

  it('does not read stdin while probing it', async () => {
    expect(await probeSource('-')).toMatchObject({ kind: 'stdin', width: 0, height: 0, codec: 'unknown', live: false });
  });
});

describe('source classification', () => {
  it('marks network streams and cameras live', () => {
    for (const url of ['rtsp://cam.local/stream', 'http://example.com/live.m3u8', 'udp://239.0.0.1:1234', 'rtmp://x/y']) {
      expect(classifySource(url), url).toMatchObject({ kind: 'url', live: true });
    }
    expect(classifySource('/dev/video0')).toMatchObject({ kind: 'device', live: true, inputOptions: ['-f', 'v4l2'] });
    expect(classifySource('drive.mp4')).toMatchObject({ kind: 'file', live: false });
  });
});

describe('probeSource rejects bad input with one clear line', () => {
  it('missing file', async () => {
    expect((await probeError(join(tmp.dir, 'nope.mp4'))).message).toMatch(/no such file/);
  });
  it('a folder', async () => {
    expect((await probeError(tmp.dir)).message).toMatch(/is a folder/);
  });
  it('an empty file', async () => {
    expect((await probeError(await emptyMp4(tmp.dir))).message).toMatch(/empty \(0 bytes\)/);
  });
  it('text named .mp4', async () => {
    expect((await probeError(await textAsMp4(tmp.dir))).message).toMatch(/not a video or image ffmpeg can read \(.+\)/);
  });
  it('audio only', async () => {
    expect((await probeError(await audioOnly(tmp.dir))).message).toMatch(/no video stream \(audio only\)/);
  });
  it('a pattern that matches nothing', async () => {
    expect((await probeError(join(tmp.dir, '*.png'))).message).toMatch(/no files match/);
  });
});
