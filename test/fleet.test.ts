// Fleet runs on a real redis-server: worker processes share drives cut into segments; a worker killed with
// SIGKILL mid-segment and a Redis restart lose and double nothing; a corrupt drive fails with the CLI's own
// reason while the good ones complete; a drive outside --allow is refused; the same drive added twice is one job.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveJobId } from '../src/fleet/ids.js';
import { planSegments, segmentWindow } from '../src/fleet/segments.js';
import type { FleetSettings } from '../src/fleet/settings.js';
import { BIN, expectOneLineError, runCli } from './helpers/cli.js';
import { ffmpegRun, ffprobeCount, useTmpDir } from './helpers/clips.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { textAsMp4, truncatedClip, video } from './helpers/video-fixtures.js';

const tmp = useTmpDir('saliencam-fleet-');
let redis: TestRedis;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await redis?.dispose();
});

interface StatusJson {
  counts: Record<string, number>;
  drives: { id: string; drive: string; state: string; dir: string; out: string; segments: number; segmentsDone: number; failedReason?: string; warnings?: string[] }[];
}

async function status(): Promise<StatusJson> {
  const r = await runCli(['fleet', 'status', '--redis', redis.url, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

interface RunningWorker {
  proc: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startWorker(allow: string[]): RunningWorker {
  // --lock 4: a dead worker's segment runs elsewhere within seconds (the default, 30 s, suits real drives).
  const proc = spawn(process.execPath, [BIN, 'fleet', 'worker', '--redis', redis.url, '--lock', '4', '--allow', ...allow], { stdio: ['ignore', 'ignore', 'pipe'] });
  workers.push(proc);
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return { proc, log: () => log, exited };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

describe('fleet ids and segments', () => {
  const settings: FleetSettings = {
    export: true,
    segment: 0.5,
    every: 10,
    explain: { model: 'centernet', backend: 'auto', batching: 'auto', method: 'xgradcam', classes: [], minScore: 0.3, perDetection: false, methodParams: { polycam: { variant: 'plus' } } },
    render: { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true },
  };
  it('derive the job id from the content hash and the settings, whatever their key order', () => {
    const hash = 'a'.repeat(64);
    const reordered = JSON.parse(JSON.stringify({ render: settings.render, explain: settings.explain, every: 10, segment: 0.5, export: true })) as FleetSettings;
    expect(driveJobId(hash, reordered)).toBe(driveJobId(hash, settings));
    expect(driveJobId(hash, { ...settings, every: 5 })).not.toBe(driveJobId(hash, settings));
    expect(driveJobId('b'.repeat(64), settings)).not.toBe(driveJobId(hash, settings));
  });
  it('cut a drive on frame boundaries, the last segment to the end', () => {
    const segs = planSegments({ fps: 25, frameCount: 38 }, 0.5);
    expect(segs.map((s) => [s.firstFrame, s.frames])).toEqual([[0, 13], [13, 13], [26, undefined]]);
    // Quarter-frame before the first frame, and the cut half a frame before the next segment's first.
    expect(segmentWindow(segs[1]!)).toEqual({ start: 12.75 / 25, duration: 12.5 / 25 });
  });
});

describe('fleet run on a real Redis', () => {
  it('two workers, one SIGKILLed mid-segment, Redis restarted mid-run: every frame of every drive exactly once', async () => {
    const drives = join(tmp.dir, 'drives');
    const out = join(tmp.dir, 'out');
    const outside = join(tmp.dir, 'outside');
    await Promise.all([mkdir(drives), mkdir(outside)]);
    const a = join(drives, 'drive-a.mp4');
    const b = join(drives, 'drive-b.mp4');
    await copyFile(video(), a);
    // The same frames, other bytes (a metadata tag): a different drive to the fleet.
    await ffmpegRun(['-i', video(), '-c', 'copy', '-metadata', 'title=drive b', b]);
    const bad = await textAsMp4(drives);
    const truncated = await truncatedClip(drives); // its first frames decode, then it breaks off
    const far = join(outside, 'far.mp4');
    await ffmpegRun(['-i', video(), '-c', 'copy', '-metadata', 'title=far away', far]);

    const settings = ['--out', out, '--segment', '0.5', '--every', '20', '--classes', 'car'];
    const added = await runCli(['fleet', 'add', join(drives, '*.mp4'), far, '--redis', redis.url, ...settings]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout.match(/^added: /gm)).toHaveLength(5);
    const again = await runCli(['fleet', 'add', a, '--redis', redis.url, ...settings]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^already queued/);
    let s = await status();
    expect(s.drives).toHaveLength(5); // a twice is one job
    expect(s.drives.find((d) => d.drive === a)!.segments).toBe(3);

    const allow = [drives, out];
    const w1 = startWorker(allow);
    const w2 = startWorker(allow);
    // A worker's line for a segment it completed ("done (n frames, s): segment id" or "skipped ...: segment id"),
    // as opposed to its progress lines ("saliencam: segment id: n/total ...").
    const finished = (log: string, id: string): boolean => log.split('\n').some((l) => /^saliencam fleet worker: (done|skipped)\b/.test(l) && l.includes(`: segment ${id}`));
    // Kill w1 in the middle of a segment (it has reported progress on one, not finished it).
    const midSegment = (): string | undefined => {
      const log = w1.log();
      const id = [...log.matchAll(/started segment (\S+)/g)].at(-1)?.[1];
      return id && log.includes(`segment ${id}: `) && !finished(log, id) ? id : undefined;
    };
    const killedAt = await until('worker 1 mid-segment', async () => midSegment(), 240_000, 200);
    process.kill(w1.proc.pid!, 'SIGKILL');
    await w1.exited;
    expect(finished(w1.log(), killedAt)).toBe(false);

    // Redis goes away for a while and comes back; the surviving worker waits and carries on.
    await until('worker 2 busy', async () => /started segment/.test(w2.log()), 120_000);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 2000));
    await redis.start();

    const w3 = startWorker(allow); // a second worker again, as an operator would restart the lost one
    s = await until(
      'the fleet to finish',
      async () => {
        const st = await status();
        return st.drives.every((d) => d.state === 'completed' || d.state === 'failed') && st;
      },
      420_000,
      2000,
    );
    expect(w2.log()).toContain('unreachable');
    // The killed worker's segment was done by another one.
    expect(w2.log() + w3.log()).toMatch(new RegExp(`done \\(\\d+ frames[^)]*\\): segment ${killedAt}`));

    const byDrive = new Map(s.drives.map((d) => [d.drive, d]));
    for (const drive of [a, b]) {
      const d = byDrive.get(drive)!;
      expect(d.state, JSON.stringify(d)).toBe('completed');
      const root = join(d.out, d.dir);
      const records = (await readFile(join(root, 'drive.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { frame: number; time: number });
      expect(records.map((r) => r.frame)).toEqual(Array.from({ length: 38 }, (_, i) => i));
      for (const r of records) expect(r.time).toBeCloseTo(r.frame / 25, 3);
      const probed = await ffprobeCount(join(root, 'drive.mp4'));
      expect(probed.streams.find((x) => x.codec_type === 'video')?.nb_read_frames).toBe('38');
    }
    // The truncated drive completes partially: the frames that decode, in order, and a warning.
    const t = byDrive.get(truncated)!;
    expect(t.state, JSON.stringify(t)).toBe('completed');
    expect(t.warnings?.join('\n')).toMatch(/input ended early|ends before this segment/);
    const tFrames = (await readFile(join(t.out, t.dir, 'drive.ndjson'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { frame: number }).frame);
    expect(tFrames.length).toBeGreaterThan(0);
    expect(tFrames.length).toBeLessThan(38);
    expect(tFrames).toEqual(Array.from({ length: tFrames.length }, (_, i) => i));

    // The corrupt drive fails with the reason `saliencam export` gives for it; nothing blocked the others.
    const cli = await runCli(['export', bad, '-o', join(tmp.dir, 'x.mp4'), '--workers', '0']);
    const reason = expectOneLineError(cli).replace(/^saliencam: /, '');
    expect(byDrive.get(bad)).toMatchObject({ state: 'failed', failedReason: reason });
    expect(byDrive.get(far)).toMatchObject({ state: 'failed' });
    expect(byDrive.get(far)!.failedReason).toMatch(/outside the worker's --allow folders/);
    // Both workers did segments; no temp file is left behind.
    expect(w2.log() + w3.log()).toMatch(/done \(\d+ frames/);
    expect((await listFiles(out)).filter((f) => f.includes('.partial'))).toEqual([]);

    const text = await runCli(['fleet', 'status', '--redis', redis.url]);
    expect(text.stdout).toContain(reason);

    const report = join(tmp.dir, 'fleet.html');
    const json = join(tmp.dir, 'fleet.json');
    const r = await runCli(['fleet', 'report', '--redis', redis.url, '--report', report, '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(await readFile(json, 'utf8')) as {
      overall: { drives: number; completed: number; failed: number; frames: number; detections: number; detectionsPerClass: Record<string, number> };
      drives: { drive: string; state: string; clip?: string; energyInBoxes?: number }[];
    };
    expect(rep.overall).toMatchObject({ drives: 5, completed: 3, failed: 2, frames: 76 + tFrames.length });
    expect(rep.overall.detectionsPerClass['car']).toBeGreaterThan(0);
    expect(rep.drives.slice(0, 2).map((d) => d.state)).toEqual(['failed', 'failed']);
    for (const d of rep.drives.filter((x) => x.clip)) expect((await stat(resolve(dirname(report), d.clip!))).size).toBeGreaterThan(0);
    const html = await readFile(report, 'utf8');
    expect(html).toContain('drive-a.mp4');
    expect(html).toContain('href="./out/');

    for (const w of [w2, w3]) w.proc.kill('SIGTERM');
    expect(await w2.exited).toBe(0);
    expect(await w3.exited).toBe(0);

    // A fresh queue (Redis database 1) with the same drive and settings: the segments' outputs exist, so the
    // worker skips them (no model is even loaded) and only merges.
    const db1 = `${redis.url}/1`;
    const sidecarA = join(byDrive.get(a)!.out, byDrive.get(a)!.dir, 'drive.ndjson');
    const before = await readFile(sidecarA, 'utf8');
    expect((await runCli(['fleet', 'add', a, '--redis', db1, ...settings])).stdout).toMatch(/^added: /);
    const w4 = spawn(process.execPath, [BIN, 'fleet', 'worker', '--redis', db1, '--allow', ...allow], { stdio: ['ignore', 'ignore', 'pipe'] });
    workers.push(w4);
    let log4 = '';
    w4.stderr.on('data', (d: Buffer) => (log4 += d.toString()));
    await until('the merge', async () => /done: drive/.test(log4), 120_000);
    expect(log4.match(/skipped \(outputs exist\): segment/g)).toHaveLength(3);
    expect(await readFile(sidecarA, 'utf8')).toBe(before);
    w4.kill('SIGTERM');
  }, 900_000);
});
