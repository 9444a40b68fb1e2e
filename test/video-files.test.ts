import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../src/errors.js';
import { writeFileAtomic } from '../src/video/atomic.js';
import { locateFfmpeg, resetFfmpegLocation } from '../src/video/ffmpeg-locate.js';
import { openSidecar } from '../src/output/sidecar.js';
import { useTmpDir } from './helpers/clips.js';

const tmp = useTmpDir();

async function freshDir(name: string): Promise<string> {
  const dir = join(tmp.dir, name);
  await mkdir(dir);
  return dir;
}

describe('writeFileAtomic', () => {
  it('writes the whole file and leaves no temp behind', async () => {
    const dir = await freshDir('atomic');
    const path = join(dir, 'result.json');
    await writeFileAtomic(path, '{"ok":true}\n');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3])); // replaces
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['result.json']);
  });

  it('refuses a missing folder with a UserError', async () => {
    await expect(writeFileAtomic(join(tmp.dir, 'nope', 'x.json'), '{}')).rejects.toBeInstanceOf(UserError);
  });
});

describe('openSidecar', () => {
  it('appends NDJSON under a temp name and renames on finish', async () => {
    const dir = await freshDir('sidecar');
    const path = join(dir, 'frames.ndjson');
    const sidecar = await openSidecar(path);
    for (let i = 0; i < 1000; i++) await sidecar.append({ frame: i, detections: [] });
    expect(existsSync(path)).toBe(false);
    expect(await sidecar.finish()).toEqual({ records: 1000, path });
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[999]!)).toEqual({ frame: 999, detections: [] });
    expect(await readdir(dir)).toEqual(['frames.ndjson']);
  });

  it('abort leaves nothing', async () => {
    const dir = await freshDir('sidecar-abort');
    const sidecar = await openSidecar(join(dir, 'frames.ndjson'));
    await sidecar.append({ frame: 0 });
    await sidecar.abort();
    await sidecar.abort();
    expect(await readdir(dir)).toEqual([]);
    await expect(sidecar.append({ frame: 1 })).rejects.toThrow(/aborted/);
  });
});

describe('locateFfmpeg', () => {
  const saved = { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH };
  afterEach(() => {
    for (const [key, value] of [['FFMPEG_PATH', saved.ffmpeg], ['FFPROBE_PATH', saved.ffprobe]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    resetFfmpegLocation();
    locateFfmpeg();
  });

  it('finds runnable binaries and a version', () => {
    resetFfmpegLocation();
    const loc = locateFfmpeg();
    expect(loc.ffmpeg).toMatch(/ffmpeg$/);
    expect(loc.ffprobe).toMatch(/ffprobe$/);
    expect(['env', 'path', 'bundled']).toContain(loc.source);
    expect(loc.version).not.toBe('unknown');
    expect(locateFfmpeg()).toBe(loc); // cached
  });

  it('prefers FFMPEG_PATH / FFPROBE_PATH', () => {
    resetFfmpegLocation();
    const found = locateFfmpeg();
    process.env.FFMPEG_PATH = found.ffmpeg;
    process.env.FFPROBE_PATH = found.ffprobe;
    resetFfmpegLocation();
    expect(locateFfmpeg()).toMatchObject({ ffmpeg: found.ffmpeg, source: 'env', ffprobeSource: 'env' });
  });

  it('a wrong FFMPEG_PATH is a UserError, not a silent fallback', () => {
    process.env.FFMPEG_PATH = join(tmp.dir, 'no-ffmpeg-here');
    resetFfmpegLocation();
    expect(() => locateFfmpeg()).toThrow(UserError);
    expect(() => locateFfmpeg()).toThrow(/FFMPEG_PATH/);
  });
});
