import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../src/errors.js';
import { openDecoder } from '../src/video/decode.js';
import { openEncoder, type Encoder } from '../src/video/encode.js';
import { ffprobeCount, useTmpDir } from './helpers/clips.js';
import { video } from './helpers/video-fixtures.js';

const tmp = useTmpDir();

/** Decodes the sample clip into `encoder`, checking at every frame that nothing is at the final path yet. */
async function pipeClip(encoder: Encoder, outPath: string): Promise<void> {
  for await (const frame of await openDecoder(video())) {
    await encoder.write(frame.rgb);
    expect(existsSync(outPath)).toBe(false);
  }
  // ffmpeg creates its output once the first frames are encoded: by now it is writing the temp file.
  expect(existsSync(encoder.tempPath)).toBe(true);
  expect(existsSync(outPath)).toBe(false);
}

describe('openEncoder', () => {
  it('round-trips the clip: 1280x720, 25 fps, 38 frames, and appears only on finish()', async () => {
    const out = join(tmp.dir, 'roundtrip.mp4');
    const encoder = await openEncoder(out, { width: 1280, height: 720, fps: 25 });
    expect(encoder.tempPath).not.toBe(out);
    expect(encoder.tempPath.startsWith(tmp.dir)).toBe(true); // same folder, so rename is atomic
    await pipeClip(encoder, out);
    expect(await encoder.finish()).toEqual({ frames: 38, path: out });
    expect(existsSync(encoder.tempPath)).toBe(false);
    const { streams } = await ffprobeCount(out);
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({ codec_type: 'video', width: 1280, height: 720, r_frame_rate: '25/1', nb_read_frames: '38' });
  });

  it('adds the source audio with audioFrom, without cutting video frames', async () => {
    const out = join(tmp.dir, 'with-audio.mp4');
    const encoder = await openEncoder(out, { width: 1280, height: 720, fps: 25, audioFrom: { input: video() } });
    await pipeClip(encoder, out);
    await encoder.finish();
    const { streams } = await ffprobeCount(out);
    expect(streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(streams.find((s) => s.codec_type === 'video')!.nb_read_frames).toBe('38');
  });

  it('abort() kills ffmpeg and leaves no file behind', async () => {
    const dir = join(tmp.dir, 'abort');
    await mkdir(dir);
    const out = join(dir, 'aborted.mp4');
    const encoder = await openEncoder(out, { width: 320, height: 240, fps: 25 });
    for (let i = 0; i < 5; i++) await encoder.write(new Uint8Array(320 * 240 * 3).fill(i * 40));
    await encoder.abort();
    await encoder.abort();
    expect(await readdir(dir)).toEqual([]);
    await expect(encoder.write(new Uint8Array(320 * 240 * 3))).rejects.toThrow(/aborted/);
  });

  it('still produces the file when ffmpeg was interrupted and finalised it itself', async () => {
    const out = join(tmp.dir, 'interrupted.mp4');
    // Odd size on purpose: yuv420p needs even sizes, the encoder pads rather than fails.
    const encoder = await openEncoder(out, { width: 321, height: 241, fps: 10 });
    // Frames larger than the pipe buffer: each resolved write means ffmpeg is up and reading.
    for (let i = 0; i < 10; i++) await encoder.write(new Uint8Array(321 * 241 * 3).fill(i * 20));
    process.kill(encoder.pid!, 'SIGINT');
    // ffmpeg notices the signal only between reads: if it was blocked waiting for input, the next frame wakes
    // it (that write may still be taken). Then it finalises the file and exits.
    await encoder.write(new Uint8Array(321 * 241 * 3)).catch(() => undefined);
    for (let i = 0; i < 600 && existsSync(`/proc/${encoder.pid}`); i++) await sleep(50);
    await expect(encoder.write(new Uint8Array(321 * 241 * 3))).rejects.toThrow(/stopped/);
    expect((await encoder.finish()).path).toBe(out);
    const { streams } = await ffprobeCount(out);
    expect(streams[0]).toMatchObject({ width: 322, height: 242 });
    expect(Number(streams[0]!.nb_read_frames)).toBeGreaterThan(0);
  });

  it('rejects a wrong-sized frame', async () => {
    const encoder = await openEncoder(join(tmp.dir, 'wrong.mp4'), { width: 64, height: 48, fps: 25 });
    await expect(encoder.write(new Uint8Array(10))).rejects.toThrow(/expected 64x48x3/);
    await encoder.abort();
  });

  it('checks the output folder before starting anything', async () => {
    for (const [path, why] of [
      [join(tmp.dir, 'missing', 'out.mp4'), /does not exist/],
      ['/proc/out.mp4', /not writable/], // fails even for root, unlike a chmod'ed folder
      [tmp.dir, /is a folder/],
    ] as const) {
      const err = await openEncoder(path, { width: 64, height: 48, fps: 25 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, path).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(why);
    }
  });

  it('finish() without frames is a UserError and leaves nothing', async () => {
    const dir = join(tmp.dir, 'empty');
    await mkdir(dir);
    const encoder = await openEncoder(join(dir, 'none.mp4'), { width: 64, height: 48, fps: 25 });
    await expect(encoder.finish()).rejects.toBeInstanceOf(UserError);
    expect(await readdir(dir)).toEqual([]);
  });
});
