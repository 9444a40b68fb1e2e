// Real sample footage for tests (the clips/ folder that ships with saliencam, or $SALIENCAM_CLIPS) and small
// ffmpeg helpers to make fixtures from it in a temp folder.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { sampleClipsDir } from '../../src/clips.js';
import { locateFfmpeg } from '../../src/video/ffmpeg-locate.js';

const run = promisify(execFile);

export const CLIPS_DIR = sampleClipsDir();

/** Absolute path of a sample clip; throws a clear message when it is missing. */
export function clipPath(name: string): string {
  const path = join(CLIPS_DIR, name);
  if (!existsSync(path)) {
    throw new Error(`sample clip ${path} is missing: run \`npm run fetch-clips\` or set SALIENCAM_CLIPS`);
  }
  return path;
}

export const TEST_VIDEO = 'test_video.mp4';

/** A fresh temp folder and the function that removes it. */
export async function makeTmpDir(prefix = 'saliencam-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A temp folder for the tests of one file: made before them, removed after them. */
export function useTmpDir(prefix = 'saliencam-test-'): { readonly dir: string } {
  let made: { dir: string; cleanup: () => Promise<void> } | undefined;
  beforeAll(async () => {
    made = await makeTmpDir(prefix);
  });
  afterAll(async () => made?.cleanup());
  return {
    get dir() {
      if (!made) throw new Error('the temp folder exists only while the tests run');
      return made.dir;
    },
  };
}

/** Runs ffmpeg quietly with `args` (inputs/outputs included); rejects with its stderr on failure. */
export async function ffmpegRun(args: string[]): Promise<void> {
  const { ffmpeg } = locateFfmpeg();
  await run(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { maxBuffer: 1 << 20 });
}

export interface ProbedStream {
  codec_type: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  nb_frames?: string;
  nb_read_frames?: string;
}

/** ffprobe's JSON for `path`, counting frames by decoding (`-count_frames`) so the numbers are real. */
export async function ffprobeCount(path: string): Promise<{ streams: ProbedStream[] }> {
  const { ffprobe } = locateFfmpeg();
  const { stdout } = await run(ffprobe, ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', path], {
    maxBuffer: 8 << 20,
  });
  return JSON.parse(stdout) as { streams: ProbedStream[] };
}
