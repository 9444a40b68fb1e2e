// Where the sample drive lives: $SALIENCAM_CLIPS when set, else the clips/ folder that ships with saliencam
// (resolved from this file, so `npm start` and the tests find it from any working directory).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bundled sample clips folder (src/ and dist/ both sit one level below the package root). */
export const BUNDLED_CLIPS_DIR = fileURLToPath(new URL('../clips/', import.meta.url));

/** The folder to take sample clips from. */
export function sampleClipsDir(): string {
  const fromEnv = process.env['SALIENCAM_CLIPS'];
  return fromEnv ? resolve(fromEnv) : BUNDLED_CLIPS_DIR;
}

/** The sample drive used by `npm start`, `bench` and `soak` when no clip is given. */
export function sampleClip(name = 'test_video.mp4'): string {
  return join(sampleClipsDir(), name);
}
