// Where the sample drive lives: $SALIENCAM_CLIPS when set, else the clips/ folder that ships with saliencam
// (resolved from this file, so `npm start` and the tests find it from any working directory).
import { join, resolve } from 'node:path';
import { appPath } from './app-root.js';

/** The sample clips folder that ships with saliencam (in a checkout or the offline kit). */
export const BUNDLED_CLIPS_DIR = appPath('clips');

/** The folder to take sample clips from. */
export function sampleClipsDir(): string {
  const fromEnv = process.env['SALIENCAM_CLIPS'];
  return fromEnv ? resolve(fromEnv) : BUNDLED_CLIPS_DIR;
}

/** The sample drive used by `npm start`, `bench` and `soak` when no clip is given. */
export function sampleClip(name = 'test_video.mp4'): string {
  return join(sampleClipsDir(), name);
}
