// Hostile and careless fleet inputs, each on generated inputs and a real
// redis-server: jobs with wrong types or absurd segment counts in Redis, a FIFO and a bad drive among good ones,
// Redis killed mid-add, symlinks inside the allowed output, a newline in an output folder's name, a bare model
// name, stored XSS in job results, and Redis URLs whose password must never be printed.
import { spawnSync } from 'node:child_process';
import { appendFile, copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedisUrl, maskUrl } from '../src/fleet/connection.js';
import { driveDirName, driveJobId, hashFile } from '../src/fleet/ids.js';
import { mergeDrive } from '../src/fleet/merge.js';
import { hrefOf, relativeLink } from '../src/fleet/report.js';
import { runSegment } from '../src/fleet/segment.js';
import { DRIVE_JOB, QUEUE_NAME, fleetSettingsSchema, type DriveJobData, type FleetSettings, type SegmentJobData } from '../src/fleet/settings.js';
import { chromiumMissing, launchChromium } from './helpers/chromium.js';
import { expectOneLineError, runCli } from './helpers/cli.js';
import { ffmpegRun, ffprobeCount, useTmpDir } from './helpers/clips.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { video } from './helpers/video-fixtures.js';

const tmp = useTmpDir('saliencam-hardening-fleet-');
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

const settings: FleetSettings = fleetSettingsSchema.parse({
  export: true,
  segment: 0.5,
  every: 10,
  explain: { model: 'centernet', backend: 'auto', batching: 'auto', method: 'xgradcam', classes: [], minScore: 0.3, perDetection: false, methodParams: { polycam: { variant: 'plus' } } },
  render: { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: true },
});

async function folder(...parts: string[]): Promise<string> {
  const d = join(tmp.dir, ...parts);
  await mkdir(d, { recursive: true });
  return d;
}

/** Every file under `dir` (recursively). */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

describe('Redis URLs: the password is never printed', () => {
  // Each secret is a distinct word, so any piece of it showing up is caught. The plain cases (user and
  // password, another scheme) held before; the others printed the password.
  const cases: [string, string, RegExp][] = [
    ['a password with a colon', 'redis://:sec:ret-colon@127.0.0.1:1', /ret-colon|sec:/],
    ['?password= (ioredis honours it)', 'redis://127.0.0.1:1/0?password=query-secret', /query-secret/],
    ['user and password', 'redis://alice:pw-with-user@127.0.0.1:1', /pw-with-user/],
    ['a malformed URL', 'redis://:malformed/secret@[not-a-host', /malformed|secret/],
    ['a password with a slash', 'redis://:slash/secret@127.0.0.1:1', /slash|secret/],
    ['not a redis URL', 'http://:http-secret@127.0.0.1:1', /http-secret/],
  ];
  it.each(cases)('%s: masked or not shown at all', (_what, url, secret) => {
    expect(maskUrl(url)).not.toMatch(secret);
    let message = '';
    try {
      checkRedisUrl(url);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toMatch(secret);
  });
  it('masks by what ioredis parses: user kept, password and query values hidden, host and db shown', () => {
    expect(maskUrl('redis://alice:p%40ss:w@host.example:6380/2?password=x&db=3')).toBe('redis://alice:***@host.example:6380/2?password=***&db=***');
  });
  it.each(cases)('the CLI (%s): one line, exit 2, no secret', async (_what, url, secret) => {
    const r = await runCli(['fleet', 'status', '--redis', url], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    expectOneLineError(r);
    expect(r.stderr + r.stdout).not.toMatch(secret);
  }, 40_000);
});

describe('jobs read back from Redis are validated', () => {
  const ids = { good: driveJobId('a'.repeat(64), settings), wrongTypes: driveJobId('b'.repeat(64), settings), huge: driveJobId('c'.repeat(64), settings), notJson: driveJobId('d'.repeat(64), settings), xss: driveJobId('e'.repeat(64), settings) };
  const XSS = '<img src=x onerror="document.title=1">';

  beforeAll(async () => {
    const out = await folder('status-out');
    const data = (hash: string, extra: Partial<DriveJobData> = {}): DriveJobData => ({ drive: join(tmp.dir, `${hash[0]}.mp4`), hash, out, dir: driveDirName(`${hash[0]}.mp4`, hash, settings), settings, segments: 1, ...extra });
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    const raw = new Redis(redis.url);
    try {
      await queue.add(DRIVE_JOB, data('a'.repeat(64)), { jobId: ids.good });
      await queue.add(DRIVE_JOB, { ...data('b'.repeat(64)), segments: 'many', drive: 42 }, { jobId: ids.wrongTypes });
      // A job claiming five million segments: status must not look each of them up.
      await queue.add(DRIVE_JOB, data('c'.repeat(64), { segments: 5_000_000 }), { jobId: ids.huge });
      await queue.add(DRIVE_JOB, data('d'.repeat(64)), { jobId: ids.notJson });
      await raw.hset(`bull:${QUEUE_NAME}:${ids.notJson}`, 'data', '{"drive": not json');
      // A completed drive whose result carries markup in every field it can, and a link that is a script.
      await queue.add(DRIVE_JOB, data('e'.repeat(64), { drive: `/drives/${XSS}.mp4` }), { jobId: ids.xss });
      const result = {
        drive: XSS,
        hash: 'e'.repeat(64),
        dir: 'x',
        segments: 1,
        clip: 'drive.mp4',
        sidecar: 'drive.ndjson',
        metrics: { frames: 3, framesWithDetections: 1, detections: 2, detectionsPerClass: { [XSS]: 2 }, energyInBoxes: 0.5, energyInBoxesPerClass: {}, worstFrames: [{ frame: 1, energyInBoxes: 0.1, labels: [XSS] }] },
        audit: [{ method: XSS, detections: 2, deletionAuc: { mean: 0.1 }, insertionAuc: { mean: 0.2 }, energyInBoxes: { mean: 0.3 }, pointingHitRate: { mean: 1 } }],
        warnings: [XSS],
      };
      await raw.lrem(`bull:${QUEUE_NAME}:wait`, 0, ids.xss);
      await raw.zadd(`bull:${QUEUE_NAME}:completed`, Date.now(), ids.xss);
      await raw.hset(`bull:${QUEUE_NAME}:${ids.xss}`, 'returnvalue', JSON.stringify(result), 'finishedOn', String(Date.now()));
      // The same, its figures and link of the wrong kind: a bad result, reported, never rendered.
      const bad = driveJobId('f'.repeat(64), settings);
      await queue.add(DRIVE_JOB, data('f'.repeat(64)), { jobId: bad });
      await raw.lrem(`bull:${QUEUE_NAME}:wait`, 0, bad);
      await raw.zadd(`bull:${QUEUE_NAME}:completed`, Date.now(), bad);
      await raw.hset(`bull:${QUEUE_NAME}:${bad}`, 'returnvalue', JSON.stringify({ ...result, clip: 'javascript:alert(1)', metrics: { ...result.metrics, frames: `<script>document.title=2</script>` } }));
    } finally {
      raw.disconnect();
      await queue.close();
    }
  });

  it('fleet status lists a bad job with its reason and carries on with the others', async () => {
    const r = await runCli(['fleet', 'status', '--redis', redis.url, '--json'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { drives: { id: string; state: string; failedReason?: string; segments: number }[] };
    const byId = new Map(s.drives.map((d) => [d.id, d]));
    expect(byId.get(ids.good)).toMatchObject({ state: 'waiting', segments: 1 });
    expect(byId.get(ids.wrongTypes)).toMatchObject({ state: 'bad job' });
    expect(byId.get(ids.wrongTypes)!.failedReason).toMatch(/^bad job drive-\S+: drive: /);
    expect(byId.get(ids.huge)!.failedReason).toMatch(/segments: .*10000/);
    expect(byId.get(ids.notJson)!.failedReason).toMatch(/cannot be read/);
    expect(byId.get(ids.xss)).toMatchObject({ state: 'completed' });
    const text = await runCli(['fleet', 'status', '--redis', redis.url], { timeoutMs: 60_000 });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(1 + s.drives.length);
  }, 90_000);

  it('fleet report escapes every value from the jobs and links only relative paths', async () => {
    const html = join(tmp.dir, 'report.html');
    const json = join(tmp.dir, 'report.json');
    const r = await runCli(['fleet', 'report', '--redis', redis.url, '--report', html, '--json', json], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const page = await readFile(html, 'utf8');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script');
    expect(page).toContain('&lt;img src=x onerror=&quot;document.title=1&quot;&gt;');
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const h of hrefs) expect(h).toMatch(/^\.\.?\/[^:]*$/);
    // The result with a script link and a string for a number: reported as bad, nothing of it rendered.
    expect(page).toMatch(/bad result: (clip|metrics\.frames): /);
    expect(page).not.toContain('javascript:');
  }, 90_000);

  it.skipIf(chromiumMissing())('the report runs no script from the jobs in Chromium, and every link is a file link', async () => {
    const html = join(tmp.dir, 'report.html');
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(pathToFileURL(html).href);
      await page.waitForLoadState('load');
      // The payloads set the title or pop a dialog if they ever run.
      expect(await page.title()).toBe('saliencam fleet report');
      expect(dialogs).toEqual([]);
      expect(await page.locator('img, script').count()).toBe(0);
      const protocols = await page.locator('a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).protocol));
      expect(protocols.length).toBeGreaterThan(0);
      expect(new Set(protocols)).toEqual(new Set(['file:']));
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('links stay paths whatever the folder names', () => {
    expect(relativeLink('/', '/javascript:alert(1)/d/drive.mp4')).toBe('./javascript:alert(1)/d/drive.mp4');
    expect(hrefOf(relativeLink('/', '/javascript:alert(1)/d/drive.mp4'))).toBe('./javascript%3Aalert(1)/d/drive.mp4');
    expect(hrefOf(relativeLink('/a/b', '/a/c/my drive.mp4'))).toBe('../c/my%20drive.mp4');
    expect(hrefOf('javascript:alert(1)')).toBeUndefined();
  });
});

describe('fleet add checks each drive', () => {
  it('a FIFO named .mp4 and a drive of too many segments are listed; the good drive is queued; nothing hangs', async () => {
    const drives = await folder('add-drives');
    const good = join(drives, 'good.mp4');
    await copyFile(video(), good);
    const fifo = join(drives, 'pipe.mp4');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // 10100 frames at 100 fps: at 0.01 s per segment, more segments than a drive may have.
    const long = join(drives, 'long.mp4');
    await ffmpegRun(['-f', 'lavfi', '-i', 'color=c=gray:s=16x16:r=100:d=101', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1000', long]);
    const broken = join(drives, 'broken.mcap');
    await writeFile(broken, Buffer.concat([Buffer.from('\x89MCAP0\r\n', 'latin1'), Buffer.alloc(64, 0xff)]));
    const r = await runCli(['fleet', 'add', fifo, long, broken, good, '--redis', redis.url, '--out', await folder('add-out'), '--segment', '0.01'], { timeoutMs: 60_000 });
    expect(r.signal, 'fleet add hung').toBeNull();
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(new RegExp(`^added: ${good} \\(38 segments\\)`, 'm'));
    const errors = r.stderr.trim().split('\n');
    expect(errors).toContain(`saliencam: ${fifo}: not a regular file (a pipe or a device is not a drive)`);
    expect(errors).toContain(`saliencam: ${long}: 10100 segments of 0.01 s, more than 10000; give a longer --segment`);
    // The broken recording is either listed here or queued for the worker to fail with its reason: one line either way.
    expect(`${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes(broken))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  }, 90_000);

  it('Redis killed mid-add: one line that says what was queued, and that much is in Redis', async () => {
    const own = await startRedis('mid-add-pass');
    try {
      const drives = await folder('mid-add');
      const n = 40;
      for (let i = 0; i < n; i++) {
        const d = join(drives, `d${String(i).padStart(2, '0')}.mp4`);
        await copyFile(video(), d);
        await appendFile(d, `drive ${i}`); // other bytes: another drive
      }
      const raw = new Redis(own.url, { maxRetriesPerRequest: 1 });
      let killed = false;
      const r = await runCli(['fleet', 'add', join(drives, '*.mp4'), '--redis', own.url, '--out', await folder('mid-add-out')], {
        timeoutMs: 90_000,
        onSpawn: () => {
          void (async () => {
            // As soon as the first drive is in Redis, kill it.
            while (!killed) {
              const keys = await raw.keys(`bull:${QUEUE_NAME}:drive-*`).catch(() => []);
              if (keys.length) {
                killed = true;
                raw.disconnect();
                await own.stop();
              } else await new Promise((res) => setTimeout(res, 20));
            }
          })();
        },
      });
      expect(killed).toBe(true);
      expect(r.code, r.stderr).toBe(4);
      const line = expectOneLineError(r);
      expect(line).toMatch(/^saliencam: lost Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ while adding \S+ \(.+\): \d+ of 40 drives queued before that \(listed above\), \S+ perhaps .*run the same fleet add again/);
      expect(r.stderr).not.toMatch(/mid-add-pass|\[ioredis\]/);
      const queued = Number(/: (\d+) of 40 drives queued/.exec(line)![1]);
      const listed = r.stdout.split('\n').filter((l) => l.startsWith('added: '));
      expect(listed).toHaveLength(queued);
      expect(queued).toBeLessThan(n);
      // What it said was queued is what Redis has (append-only file, fsync always).
      await own.start();
      const queue = new Queue(QUEUE_NAME, { connection: { url: own.url } });
      try {
        const inRedis = (await queue.getJobs(['waiting-children'])).filter((j) => j?.name === DRIVE_JOB).map((j) => j.id!);
        // Every drive listed is there; beside them at most the drive being added when Redis went, which Redis
        // may have stored before its reply was lost (the message says "perhaps").
        expect(inRedis).toEqual(expect.arrayContaining(listed.map((l) => l.split(' ').at(-1))));
        expect(inRedis.length - listed.length).toBeGreaterThanOrEqual(0);
        expect(inRedis.length - listed.length).toBeLessThanOrEqual(1);
      } finally {
        await queue.close();
      }
    } finally {
      await own.dispose();
    }
  }, 150_000);
});

describe('the --allow boundary at every level', () => {
  async function segmentJob(name: string, o: { model?: string } = {}) {
    const allowed = await folder(name, 'allowed');
    const outside = await folder(name, 'outside');
    const drive = join(allowed, 'drive.mp4');
    await copyFile(video(), drive);
    const hash = await hashFile(drive);
    const out = await folder(name, 'allowed', 'out');
    const s = { ...settings, explain: { ...settings.explain, ...(o.model ? { model: o.model } : {}) } };
    const job: SegmentJobData = { drive, hash, out, dir: driveDirName(drive, hash, s), settings: s, segment: { index: 0, firstFrame: 0, fps: 25 } };
    return { allowed, outside, out, job };
  }
  const ctx = (allow: string) => ({ allow: [allow], onProgress: () => undefined });

  it("a job's folder that is a symlink to elsewhere is refused before anything is written", async () => {
    const { allowed, outside, out, job } = await segmentJob('symlink-root');
    await symlink(outside, join(out, job.dir));
    await expect(runSegment(job, ctx(allowed))).rejects.toThrow(/^output folder .* is outside the worker's --allow folders/);
    expect(await readdir(outside)).toEqual([]);
  });

  it('a segments folder that is a symlink to elsewhere is refused too', async () => {
    const { allowed, outside, out, job } = await segmentJob('symlink-segments');
    await mkdir(join(out, job.dir));
    await symlink(outside, join(out, job.dir, 'segments'));
    await expect(runSegment(job, ctx(allowed))).rejects.toThrow(/^output folder .*segments is outside the worker's --allow folders/);
    expect(await readdir(outside)).toEqual([]);
  });

  it('a model given as a bare name goes through the --allow check (it would load from the working folder)', async () => {
    const { allowed, job } = await segmentJob('bare-model', { model: 'my-model' });
    await expect(runSegment(job, ctx(allowed))).rejects.toThrow(/^model my-model is outside the worker's --allow folders/);
  });

  it('a newline in the output folder name cannot inject lines into the concat list', async () => {
    const allowed = await folder('concat', 'allowed');
    const outside = await folder('concat', 'outside');
    // A clip outside that an injected list line would pull in (100 frames).
    const far = join(outside, 'far.mp4');
    await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=s=64x48:r=25:d=4', '-c:v', 'libx264', '-preset', 'ultrafast', far]);
    const out = await folder('concat', 'allowed', `evil\nfile '${far}'\nfile 'x`);
    const dir = 'drive-0123456789ab-01234567';
    const segments = await folder('concat', 'allowed', `evil\nfile '${far}'\nfile 'x`, dir, 'segments');
    for (let i = 0; i < 2; i++) {
      await ffmpegRun(['-f', 'lavfi', '-i', `testsrc=s=64x48:r=25:d=0.2`, '-c:v', 'libx264', '-preset', 'ultrafast', join(segments, `seg0000${i}.mp4`)]);
      const records = Array.from({ length: 5 }, (_, k) => JSON.stringify({ frame: i * 5 + k, time: (i * 5 + k) / 25, detections: [], saliency: [] }));
      await writeFile(join(segments, `seg0000${i}.ndjson`), `${records.join('\n')}\n`);
    }
    const data: DriveJobData = { drive: join(allowed, 'd.mp4'), hash: 'a'.repeat(64), out, dir, settings: { ...settings, audit: undefined }, segments: 2, fps: 25 };
    const summary = await mergeDrive(data, [allowed]);
    expect(summary.clip).toBe('drive.mp4');
    const probed = await ffprobeCount(join(out, dir, 'drive.mp4'));
    expect(probed.streams.find((x) => x.codec_type === 'video')?.nb_read_frames).toBe('10');
    // Only the drive's own outputs, no list or temp left behind.
    expect((await listFiles(join(out, dir))).map((f) => f.slice(join(out, dir).length + 1)).filter((f) => !f.startsWith('segments/seg0000')).sort()).toEqual(['drive.json', 'drive.mp4', 'drive.ndjson']);
  }, 60_000);
});
