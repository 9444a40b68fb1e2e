// Odd inputs made from the real sample clip, in a temp folder: truncated, rotated, audio-only, longer,
// variable-rate, image sequences, plus files that are not video at all.
import { copyFile, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_VIDEO, clipPath, ffmpegRun } from './clips.js';

export const video = (): string => clipPath(TEST_VIDEO);

/** The first `bytes` of the clip: the moov atom is at the front, so the first frames still decode. */
export async function truncatedClip(dir: string, bytes = 300_000): Promise<string> {
  const out = join(dir, 'truncated.mp4');
  const fh = await open(video(), 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    await writeFile(out, buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
  return out;
}

export async function textAsMp4(dir: string): Promise<string> {
  const out = join(dir, 'notes.mp4');
  await writeFile(out, 'this is not a video\n'.repeat(20));
  return out;
}

export async function emptyMp4(dir: string): Promise<string> {
  const out = join(dir, 'empty.mp4');
  await writeFile(out, '');
  return out;
}

/** The clip's own AAC track alone (stream copy, instant). */
export async function audioOnly(dir: string): Promise<string> {
  const out = join(dir, 'audio-only.m4a');
  await ffmpegRun(['-i', video(), '-vn', '-c:a', 'copy', out]);
  return out;
}

/** The clip with a display-rotation of 90° in its metadata (stream copy). */
export async function rotatedClip(dir: string): Promise<string> {
  const out = join(dir, 'rotated.mp4');
  await ffmpegRun(['-i', video(), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out]);
  return out;
}

/** The clip played `1 + loops` times in a row (stream copy): 38 × (1 + loops) frames. */
export async function loopedClip(dir: string, loops: number): Promise<string> {
  const out = join(dir, `looped-${loops}.mp4`);
  await ffmpegRun(['-stream_loop', String(loops), '-i', video(), '-an', '-c', 'copy', out]);
  return out;
}

/**
 * Variable frame rate: frames 0, 1, 5, 6, 10, 11 … of the clip at their original times (0, 0.04, 0.2,
 * 0.24 … s), 16 frames, 320x180. index/fps gives wrong times here; real pts give these.
 */
export const VFR_TIMES = [0, 0.04, 0.2, 0.24, 0.4, 0.44, 0.6, 0.64, 0.8, 0.84, 1, 1.04, 1.2, 1.24, 1.4, 1.44];

export async function variableRateClip(dir: string): Promise<string> {
  const out = join(dir, 'variable-rate.mp4');
  await ffmpegRun([
    '-i', video(), '-an', '-vf', 'select=lt(mod(n\\,5)\\,2),scale=320:180', '-vsync', 'vfr',
    '-c:v', 'libx264', '-preset', 'ultrafast', out,
  ]);
  return out;
}

/** `n` PNG frames named frame_0001.png … in `dir`. */
export async function pngSequence(dir: string, n = 3): Promise<string> {
  await ffmpegRun(['-i', video(), '-frames:v', String(n), join(dir, 'frame_%04d.png')]);
  return dir;
}

export async function stillJpg(dir: string): Promise<string> {
  const out = join(dir, 'still.jpg');
  await copyFile(clipPath('test1.jpg'), out);
  return out;
}
