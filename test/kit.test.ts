// The offline kit (`npm run pack`), unpacked into a temp folder and run with no node on PATH, must give the
// result of the repository's own build. Packed at xz -1 (the release uses -6): same files, quicker to make.
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript script without type declarations
import { compareExplain } from '../scripts/compare-explain.mjs';
import { clipPath, useTmpDir } from './helpers/clips.js';
import { runCli } from './helpers/cli.js';

const run = promisify(execFile);
const tmp = useTmpDir('saliencam-kit-');

describe('offline kit', () => {
  it('unpacked anywhere, explains test1.jpg as the repo build does, with no node on PATH', async () => {
    const version = JSON.parse(await readFile('package.json', 'utf8')).version as string;
    await run(process.execPath, ['scripts/pack.mjs', '--out', tmp.dir, '--level', '1'], { timeout: 900_000 });
    const unpacked = join(tmp.dir, 'unpacked');
    await mkdir(unpacked);
    await run('tar', ['-xJf', join(tmp.dir, `saliencam-${version}-linux-x64.tar.xz`), '-C', unpacked]);

    // An empty folder as the whole PATH: no node, no ffmpeg, nothing from this machine's tools.
    const emptyBin = join(tmp.dir, 'empty-bin');
    await mkdir(emptyBin);
    const env = { PATH: emptyBin, HOME: tmp.dir, LANG: 'C' };
    const kitBin = join(unpacked, 'saliencam/bin/saliencam');
    const image = clipPath('test1.jpg');
    const out = (name: string) => join(tmp.dir, name);

    const info = await run(kitBin, ['info', '--json'], { env, cwd: tmp.dir, timeout: 120_000 });
    const facts = JSON.parse(info.stdout) as { ffmpeg: { path: string; source: string }; models: { name: string; path: string | null }[] };
    expect(facts.ffmpeg.source).toBe('bundled');
    expect(facts.ffmpeg.path.startsWith(unpacked)).toBe(true);
    expect(facts.models.find((m) => m.name === 'centernet')?.path?.startsWith(unpacked)).toBe(true);

    await run(kitBin, ['explain', image, '--backend', 'wasm', '--json', out('kit.json'), '--maps', out('kit-maps.json'), '-q'], { env, cwd: tmp.dir, timeout: 300_000 });
    const repo = await runCli(['explain', image, '--backend', 'wasm', '--json', out('repo.json'), '--maps', out('repo-maps.json'), '-q']);
    expect(repo.code, repo.stderr).toBe(0);

    // The explain worker is a bundle of its own: a short export runs it (and ffmpeg decode, encode, probe).
    await run(kitBin, ['export', clipPath('test_video.mp4'), '-o', out('kit.mp4'), '--sidecar', out('kit.ndjson'), '--duration', '0.2', '--workers', '1', '--backend', 'wasm', '-q'], { env, cwd: tmp.dir, timeout: 300_000 });
    const records = (await readFile(out('kit.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(records.length).toBe(5);
    expect(records.every((r) => r.detections.length > 0)).toBe(true);

    const [kit, mine, kitMaps, mineMaps] = await Promise.all(['kit.json', 'repo.json', 'kit-maps.json', 'repo-maps.json'].map(async (f) => JSON.parse(await readFile(out(f), 'utf8'))));
    expect(kit.detections.length).toBeGreaterThan(0);
    expect(kit.detections).toEqual(mine.detections);
    const { problems, maxMapDiff } = compareExplain(kit, mine, kitMaps, mineMaps, 1e-5) as { problems: string[]; maxMapDiff: number };
    expect(problems).toEqual([]);
    expect(maxMapDiff).toBeLessThanOrEqual(1e-5);
  }, 1_200_000);
});
