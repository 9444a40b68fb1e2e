// Temp files (issue #26, class 8): every writer goes through the one atomic-target helper (src/video/atomic.ts),
// whose temp names are random and created exclusively. Symlinks planted at every name the old scheme would
// have used (`.<name>.partial-<pid>[-n]<ext>`) point at a victim file or folder: no writer may follow them, and
// each output still appears whole.
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { openFiftyOneOutput } from '../src/output/fiftyone-sink.js';
import { openMcapOutput } from '../src/output/mcap-sink.js';
import { asWriteError, checkOutputPath, openAtomic, writeFileAtomic } from '../src/video/atomic.js';
import { openEncoder } from '../src/video/encode.js';
import type { SourceInfo } from '../src/video/probe.js';
import { openSidecar } from '../src/video/sidecar.js';
import { useTmpDir } from './helpers/clips.js';

const tmp = useTmpDir('saliencam-tempfiles-');
const VICTIM_TEXT = 'someone else’s file\n';

/** A fresh folder with a victim file and folder outside it, and symlinks to them at every old temp name of `name`. */
async function planted(test: string, name: string, ext: string) {
  const dir = join(tmp.dir, test);
  const victims = join(tmp.dir, `${test}-victims`);
  await mkdir(dir);
  await mkdir(join(victims, 'folder'), { recursive: true });
  const victim = join(victims, 'file.txt');
  await writeFile(victim, VICTIM_TEXT);
  const stems = [`.${name}.partial-${process.pid}`, ...Array.from({ length: 100 }, (_, n) => `.${name}.partial-${process.pid}-${n}`)];
  for (const stem of stems) {
    await symlink(victim, join(dir, `${stem}${ext}`));
    if (ext) await symlink(join(victims, 'folder'), join(dir, stem));
  }
  return {
    dir,
    target: join(dir, name),
    /** The victims are untouched and only the output was added to the folder. */
    async untouched(): Promise<void> {
      expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
      expect(await readdir(join(victims, 'folder'))).toEqual([]);
      const left = (await readdir(dir)).filter((f) => !stems.some((s) => f === s || f === `${s}${ext}`));
      expect(left).toEqual([name]);
    },
  };
}

const info = { input: 'drive.mp4', width: 16, height: 16, fps: 5 } as unknown as SourceInfo;

describe('planted temp names are never followed', () => {
  it('writeFileAtomic (explain --json, the audit and fleet JSON/HTML)', async () => {
    const p = await planted('json', 'out.json', '.json');
    await writeFileAtomic(p.target, '{"ok":true}\n');
    expect(await readFile(p.target, 'utf8')).toBe('{"ok":true}\n');
    await p.untouched();
  });

  it('the NDJSON sidecar', async () => {
    const p = await planted('sidecar', 'out.ndjson', '.ndjson');
    const s = await openSidecar(p.target);
    // Its temp is a fresh, random name beside the target, a regular file.
    const temps = (await readdir(p.dir)).filter((f) => /^\.out\.ndjson\.partial-[0-9a-f]{12}\.ndjson$/.test(f));
    expect(temps).toHaveLength(1);
    expect((await lstat(join(p.dir, temps[0]!))).isFile()).toBe(true);
    await s.append({ frame: 0 });
    await s.append({ frame: 1 });
    await s.finish();
    expect(await readFile(p.target, 'utf8')).toBe('{"frame":0}\n{"frame":1}\n');
    await p.untouched();
  });

  it('the MCAP writer', async () => {
    const p = await planted('mcap', 'out.mcap', '.mcap');
    const out = await openMcapOutput(p.target, info);
    await out.finish();
    expect((await readFile(p.target)).subarray(0, 5).toString('latin1')).toBe('\x89MCAP');
    await p.untouched();
  });

  it('the mp4 encoder (ffmpeg writes inside a private mkdtemp folder)', async () => {
    const p = await planted('mp4', 'out.mp4', '.mp4');
    const enc = await openEncoder(p.target, { width: 16, height: 16, fps: 5 });
    await enc.write(new Uint8Array(16 * 16 * 3).fill(128));
    await enc.write(new Uint8Array(16 * 16 * 3).fill(64));
    await enc.finish();
    expect((await readFile(p.target)).subarray(4, 8).toString('latin1')).toBe('ftyp');
    await p.untouched();
  }, 30_000);

  it('the FiftyOne temp folder (mkdtemp)', async () => {
    const p = await planted('fiftyone', 'dataset', '');
    const out = await openFiftyOneOutput(p.target, info);
    await out.finish();
    expect((await readdir(p.target)).sort()).toEqual(['README.md', 'data', 'heatmaps', 'labels.json', 'saliency.json']);
    await p.untouched();
  });

  it('the write probe: planted probe names do not make a writable folder look unwritable', async () => {
    const dir = join(tmp.dir, 'probe');
    await mkdir(dir);
    for (let n = 0; n < 100; n++) await writeFile(join(dir, `.saliencam-write-test-${process.pid}-${n}`), '');
    await expect(checkOutputPath(join(dir, 'x.json'))).resolves.toBe(join(dir, 'x.json'));
  });
});

describe('a name the writer refuses is a one-line input error', () => {
  it('a FiftyOne output that is a dangling symlink: "already exists", nothing created at its target', async () => {
    const dir = join(tmp.dir, 'dangling');
    await mkdir(dir);
    await symlink(join(dir, 'nowhere'), join(dir, 'dataset'));
    await expect(openFiftyOneOutput(join(dir, 'dataset'), info)).rejects.toThrow(UserError);
    await expect(openFiftyOneOutput(join(dir, 'dataset'), info)).rejects.toThrow(/already exists/);
    expect(await readdir(dir)).toEqual(['dataset']);
  });

  it('a name in the way or a symlink loop maps to a UserError, not an internal error', () => {
    for (const code of ['EEXIST', 'ELOOP', 'ENOTDIR', 'EISDIR']) {
      const err = asWriteError('out.json', Object.assign(new Error(code), { code }));
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/^cannot write out\.json: /);
    }
  });

  it('a discarded target leaves nothing behind; a committed one only the output', async () => {
    const dir = join(tmp.dir, 'lifecycle');
    await mkdir(dir);
    for (const kind of ['file', 'folder', 'path'] as const) {
      const t = await openAtomic(join(dir, `gone-${kind}`), kind);
      await t.discard();
      await t.discard(); // idempotent
    }
    expect(await readdir(dir)).toEqual([]);
    const t = await openAtomic(join(dir, 'kept.txt'), 'file');
    await t.fh.writeFile('whole\n');
    await t.commit();
    expect(await readdir(dir)).toEqual(['kept.txt']);
    expect(await readFile(join(dir, 'kept.txt'), 'utf8')).toBe('whole\n');
  });
});
