// Table-driven bad (and odd) inputs across the commands: each gives one clear line and its documented exit
// code, and never leaves an output that looks whole.
import { chmod, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipPath, ffmpegRun, ffprobeCount, makeTmpDir, TEST_VIDEO } from './helpers/clips.js';
import { expectOneLineError, runCli } from './helpers/cli.js';
import { audioOnly, rotatedClip, textAsMp4, truncatedClip, variableRateClip } from './helpers/video-fixtures.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
const fx: Record<string, string> = {};

beforeAll(async () => {
  tmp = await makeTmpDir('saliencam-hardening-');
  const d = tmp.dir;
  fx.missing = join(d, 'missing.mp4');
  fx.dir = join(d, 'a-folder');
  await mkdir(fx.dir);
  fx.empty = join(d, 'empty.mp4');
  await writeFile(fx.empty, '');
  fx.emptyJpg = join(d, 'empty.jpg');
  await writeFile(fx.emptyJpg, '');
  fx.textMp4 = await textAsMp4(d);
  fx.textJpg = join(d, 'notes.jpg');
  await writeFile(fx.textJpg, 'not an image\n');
  fx.truncated = await truncatedClip(d);
  fx.audioOnly = await audioOnly(d);
  fx.rotated = await rotatedClip(d);
  fx.vfr = await variableRateClip(d);
  fx.imageAsMp4 = join(d, 'photo.mp4');
  await copyFile(clipPath('test1.jpg'), fx.imageAsMp4);
  // An mp4 whose codec tag no decoder knows: the container parses, the video cannot be decoded.
  const bytes = await readFile(clipPath(TEST_VIDEO));
  const avc1 = bytes.indexOf('avc1');
  bytes.write('zzzz', avc1, 'latin1');
  fx.unknownCodec = join(d, 'unknown-codec.mp4');
  await writeFile(fx.unknownCodec, bytes);
  fx.tiny = join(d, 'tiny.mkv');
  await ffmpegRun(['-f', 'lavfi', '-i', 'color=c=gray:s=2x2:d=0.2:r=10', '-vf', 'scale=1:1', '-c:v', 'png', '-f', 'matroska', fx.tiny]);
  fx.tinyPng = join(d, 'tiny.png');
  await ffmpegRun(['-f', 'lavfi', '-i', 'color=c=gray:s=2x2', '-vf', 'scale=1:1', '-frames:v', '1', fx.tinyPng]);
  fx.hugePng = join(d, 'huge.png');
  await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=s=8000x8000', '-frames:v', '1', fx.hugePng]);
  fx.corruptModel = join(d, 'corrupt-model.json');
  await writeFile(fx.corruptModel, '{"modelTopology": {"node": [');
  fx.notAModel = join(d, 'not-a-model.json');
  await writeFile(fx.notAModel, '{"hello": "world"}');
  // A real TF.js GraphModel that is not a detector (wrong inputs and outputs).
  fx.wrongModel = join(d, 'emotion.json');
  const humanModels = join('node_modules', '@vladmandic', 'human-models', 'models');
  await copyFile(join(humanModels, 'emotion.json'), fx.wrongModel);
  await copyFile(join(humanModels, 'emotion.bin'), join(d, 'emotion.bin'));
  fx.missingWeights = join(d, 'no-weights', 'centernet.json');
  await mkdir(join(d, 'no-weights'));
  await copyFile(join(humanModels, 'centernet.json'), fx.missingWeights);
}, 300_000);
afterAll(async () => tmp?.cleanup());

interface Case {
  name: string;
  args: () => string[];
  code: number;
  message: RegExp;
}

const out = (name: string) => join(tmp.dir, 'out', name);

const BAD: Case[] = [
  // explain
  { name: 'explain: missing file', args: () => ['explain', fx.missing!], code: 2, message: /no such file/ },
  { name: 'explain: a directory', args: () => ['explain', fx.dir!], code: 2, message: /directory/ },
  { name: 'explain: zero-byte file', args: () => ['explain', fx.emptyJpg!], code: 2, message: /empty/ },
  { name: 'explain: a text file named .jpg', args: () => ['explain', fx.textJpg!], code: 2, message: /not a readable image/ },
  { name: 'explain: unknown method', args: () => ['explain', clipPath('test1.jpg'), '--method', 'magic'], code: 2, message: /--method/ },
  { name: 'explain: min-score out of range', args: () => ['explain', clipPath('test1.jpg'), '--min-score', '1.5'], code: 2, message: /--min-score/ },
  { name: 'explain: unknown class', args: () => ['explain', clipPath('test1.jpg'), '--classes', 'car,unicorn'], code: 2, message: /unknown class "unicorn"/ },
  { name: 'explain: unknown backend', args: () => ['explain', clipPath('test1.jpg'), '--backend', 'quantum'], code: 2, message: /--backend/ },
  { name: 'explain: unknown model name', args: () => ['explain', clipPath('test1.jpg'), '--model', 'yolo99'], code: 2, message: /model yolo99 not found/ },
  { name: 'explain: corrupt model.json', args: () => ['explain', clipPath('test1.jpg'), '--model', fx.corruptModel!], code: 2, message: /not valid JSON/ },
  { name: 'explain: JSON that is not a model', args: () => ['explain', clipPath('test1.jpg'), '--model', fx.notAModel!], code: 2, message: /not a TF.js GraphModel/ },
  { name: 'explain: a model that is not a detector', args: () => ['explain', clipPath('test1.jpg'), '--model', fx.wrongModel!], code: 2, message: /not a known detector layout/ },
  { name: 'explain: model weights missing', args: () => ['explain', clipPath('test1.jpg'), '--model', fx.missingWeights!], code: 2, message: /weights .* missing/ },
  { name: 'explain: unknown layer', args: () => ['explain', clipPath('test1.jpg'), '--layer', 'no/such/node'], code: 2, message: /layer no\/such\/node is not a node/ },
  { name: 'explain: overlay with an unknown extension', args: () => ['explain', clipPath('test1.jpg'), '-o', out('x.txt')], code: 2, message: /png, .jpg or .webp/ },
  { name: 'explain: unwritable output', args: () => ['explain', clipPath('test1.jpg'), '-o', '/proc/saliencam.png'], code: 2, message: /cannot write/ },
  // export
  { name: 'export: zero-byte file', args: () => ['export', fx.empty!, '-o', out('e.mp4')], code: 2, message: /empty/ },
  { name: 'export: a text file named .mp4', args: () => ['export', fx.textMp4!, '-o', out('e.mp4')], code: 2, message: /not a video or image|Invalid data/i },
  { name: 'export: no video stream (audio only)', args: () => ['export', fx.audioOnly!, '-o', out('e.mp4')], code: 2, message: /no video stream/ },
  { name: 'export: unsupported codec', args: () => ['export', fx.unknownCodec!, '-o', out('e.mp4'), '--sidecar', out('e.ndjson')], code: 2, message: /codec|decode/i },
  { name: 'export: a directory', args: () => ['export', fx.dir!, '-o', out('e.mp4')], code: 2, message: /director|folder/ },
  { name: 'export: truncated mp4', args: () => ['export', fx.truncated!, '-o', out('t.mp4'), '--every', '50', '-q'], code: 3, message: /input ended early after \d+ frames/ },
  { name: 'export: output not .mp4', args: () => ['export', clipPath(TEST_VIDEO), '-o', out('e.avi')], code: 2, message: /name it .mp4/ },
  { name: 'export: unwritable output', args: () => ['export', clipPath(TEST_VIDEO), '-o', '/proc/saliencam.mp4'], code: 2, message: /cannot write/ },
  { name: 'export: --start past the end', args: () => ['export', clipPath(TEST_VIDEO), '-o', out('late.mp4'), '--start', '60'], code: 2, message: /no frame/ },
  { name: 'export: bad --every', args: () => ['export', clipPath(TEST_VIDEO), '-o', out('e.mp4'), '--every', '-1'], code: 2, message: /--every/ },
  { name: 'export: bad --workers', args: () => ['export', clipPath(TEST_VIDEO), '-o', out('e.mp4'), '--workers', 'many'], code: 2, message: /--workers/ },
  { name: 'export: bad method parameter', args: () => ['export', clipPath(TEST_VIDEO), '-o', out('e.mp4'), '--polycam-variant', 'both'], code: 2, message: /--polycam-variant.*plus, minus, pm/ },
  { name: 'unknown command', args: () => ['explode'], code: 2, message: /unknown command/ },
];

describe('bad inputs: one clear line, documented exit code, no output left looking whole', () => {
  beforeAll(async () => {
    await mkdir(join(tmp.dir, 'out'), { recursive: true });
  });

  it.each(BAD.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = await runCli(c.args(), { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(c.code);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('saliencam: ') && !l.includes('warning:'));
    const line = c.code === 2 ? expectOneLineError(r) : lines.join(' ');
    expect(`${line} ${r.stderr}`).toMatch(c.message);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
    // Only complete outputs may exist: nothing with a temp name, and failed runs write nothing.
    const left = await readdir(join(tmp.dir, 'out'));
    expect(left.filter((f) => f.includes('partial') || f.startsWith('.'))).toEqual([]);
    if (c.code === 2) expect(left.filter((f) => /^e\.|^x\.|^late\./.test(f))).toEqual([]);
  }, 240_000);
});

describe('odd but valid inputs are handled, not refused', () => {
  it('a rotated phone video is exported upright (rotation metadata honoured: 720x1280)', async () => {
    const o = out('rotated.mp4');
    const r = await runCli(['export', fx.rotated!, '-o', o, '--every', '50', '-q', '--duration', '0.4']);
    expect(r.code, r.stderr).toBe(0);
    const v = (await ffprobeCount(o)).streams.find((s) => s.codec_type === 'video')!;
    expect([v.width, v.height]).toEqual([720, 1280]);
  }, 240_000);

  it('a variable-frame-rate video keeps every frame and its real time in the sidecar', async () => {
    const side = out('vfr.ndjson');
    const r = await runCli(['export', fx.vfr!, '-o', out('vfr.mp4'), '--sidecar', side, '--every', '50', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const times = (await readFile(side, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).time as number);
    expect(times).toHaveLength(16);
    expect(times[2]).toBeCloseTo(0.2, 2);
    expect(times[15]).toBeCloseTo(1.44, 2);
  }, 240_000);

  it('an image with a video extension is read as a one-frame video', async () => {
    const o = out('photo.saliency.mp4');
    const r = await runCli(['export', fx.imageAsMp4!, '-o', o, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(Number((await ffprobeCount(o)).streams.find((s) => s.codec_type === 'video')!.nb_read_frames)).toBe(1);
  }, 240_000);

  it('a 1x1 video and a 1x1 image', async () => {
    const r1 = await runCli(['export', fx.tiny!, '-o', out('tiny.mp4'), '-q']);
    expect(r1.code, r1.stderr).toBe(0);
    const r2 = await runCli(['explain', fx.tinyPng!, '--json', out('tiny.json'), '-q']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(await readFile(out('tiny.json'), 'utf8')).width).toBe(1);
  }, 240_000);

  it('an 8000x8000 still is explained (boxes in its own pixels)', async () => {
    const r = await runCli(['explain', fx.hugePng!, '--json', out('huge.json'), '-q']);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(await readFile(out('huge.json'), 'utf8'));
    expect([rec.width, rec.height]).toEqual([8000, 8000]);
  }, 240_000);

  it('unreadable permissions', async () => {
    // Root reads any file, so a root run (how CI runs) runs the CLI without that right.
    const root = process.getuid?.() === 0;
    if (root) {
      const probe = await runCli(['--version'], { withoutFileOverride: true });
      expect(probe.code, `the built CLI must run under setpriv (util-linux): ${probe.stderr}`).toBe(0);
    }
    const p = join(tmp.dir, 'secret.jpg');
    await copyFile(clipPath('test1.jpg'), p);
    await chmod(p, 0o000);
    const r = await runCli(['explain', p], { withoutFileOverride: root });
    expect(r.code, r.stderr).toBe(2);
    expect(expectOneLineError(r)).toMatch(/cannot read|not a readable/);
  });
});
