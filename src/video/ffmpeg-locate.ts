// Finds the ffmpeg and ffprobe binaries once per process and points fluent-ffmpeg at them.
// Order: FFMPEG_PATH / FFPROBE_PATH, then PATH, then the @ffmpeg-installer / @ffprobe-installer packages.
// ffprobe is optional: without one (the offline kit ships only ffmpeg) sources are probed with ffmpeg.
import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { oneLine, UserError } from '../errors.js';

export type FfmpegSource = 'env' | 'path' | 'bundled';

export interface FfmpegLocation {
  ffmpeg: string;
  /** Absent when there is no ffprobe anywhere: probe.ts then asks ffmpeg itself. */
  ffprobe?: string;
  /** Where ffmpeg came from. */
  source: FfmpegSource;
  /** Where ffprobe came from (may differ, e.g. FFMPEG_PATH set but not FFPROBE_PATH). */
  ffprobeSource?: FfmpegSource;
  /** First line of `ffmpeg -version` after "ffmpeg version", e.g. "4.4.2" or "N-47683-g0e8eb07980-static". */
  version: string;
}

let cached: FfmpegLocation | undefined;

/** Locates ffmpeg/ffprobe (cached) and configures fluent-ffmpeg to use them. Throws UserError if one is missing. */
export function locateFfmpeg(): FfmpegLocation {
  if (cached) return cached;
  const ff = findBinary('ffmpeg', 'FFMPEG_PATH', bundledPath('@ffmpeg-installer/ffmpeg'));
  if (!ff) throw new UserError('ffmpeg not found: install ffmpeg on PATH, or set FFMPEG_PATH to the ffmpeg binary');
  // A custom ffmpeg usually has its ffprobe beside it: prefer that over an unrelated one on PATH.
  const sibling = ff.source === 'env' ? join(dirname(ff.path), 'ffprobe') : undefined;
  const probe = findBinary('ffprobe', 'FFPROBE_PATH', bundledPath('@ffprobe-installer/ffprobe'), sibling);
  const location: FfmpegLocation = {
    ffmpeg: ff.path,
    ...(probe ? { ffprobe: probe.path, ffprobeSource: probe.source } : {}),
    source: ff.source,
    version: readVersion(ff.path),
  };
  ffmpeg.setFfmpegPath(location.ffmpeg);
  if (location.ffprobe) ffmpeg.setFfprobePath(location.ffprobe);
  cached = location;
  return location;
}

/** Forgets the cached location (tests that change FFMPEG_PATH). */
export function resetFfmpegLocation(): void {
  cached = undefined;
}

function findBinary(
  name: string,
  envVar: string,
  bundled: string | undefined,
  sibling?: string,
): { path: string; source: FfmpegSource } | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    // An explicit setting that is wrong is a user mistake; silently falling back would hide it.
    if (!isExecutableFile(fromEnv)) {
      throw new UserError(`${envVar} is set to ${fromEnv}, which is not an executable file`);
    }
    return { path: fromEnv, source: 'env' };
  }
  if (sibling && isExecutableFile(sibling)) return { path: sibling, source: 'env' };
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return { path: candidate, source: 'path' };
  }
  if (bundled && ensureExecutable(bundled)) return { path: bundled, source: 'bundled' };
  return undefined;
}

/** Path of an installer package's binary, or undefined if the package (or its platform build) is missing. */
function bundledPath(pkg: string): string | undefined {
  try {
    const mod = createRequire(import.meta.url)(pkg) as { path?: unknown };
    return typeof mod.path === 'string' ? mod.path : undefined;
  } catch {
    // The installer packages throw (sometimes a bare string) on unsupported platforms.
    return undefined;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The installer packages set the execute bit in a postinstall script, which `npm install --ignore-scripts`
 * skips (that is how @ffprobe-installer arrives here). Do what the postinstall would have done.
 */
function ensureExecutable(path: string): boolean {
  if (isExecutableFile(path)) return true;
  try {
    if (!statSync(path).isFile()) return false;
    chmodSync(path, statSync(path).mode | 0o111);
  } catch {
    return false;
  }
  return isExecutableFile(path);
}

function readVersion(path: string): string {
  try {
    const out = execFileSync(path, ['-version'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /version\s+(\S+)/.exec(out);
    return m?.[1] ?? 'unknown';
  } catch (err) {
    throw new UserError(`${path} does not run (${oneLine(err)})`);
  }
}
