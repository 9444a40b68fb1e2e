// Names from the input reach the terminal escaped (issue #26, class 4): file names, topic names and class
// names carrying ESC/OSC/CSI sequences, newlines and bidi overrides are printed as visible \uXXXX escapes on
// stdout, in errors and in progress lines. And a printf-pattern image sequence of 200 000 frames is counted
// without overflowing the call stack (class 5).
import { closeSync, openSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProgress } from '../src/cli/progress.js';
import { probeSource } from '../src/video/index.js';
import { clipPath, ffmpegRun, useTmpDir } from './helpers/clips.js';
import { expectOneLineError, runCli } from './helpers/cli.js';
import { sampleJpegs, writeRecording } from './helpers/mcap-fixtures.js';
import { writeToyYolo } from './helpers/toy-models.js';

const tmp = useTmpDir('saliencam-hardening-names-');
/** Retitles the terminal (OSC 0), clears the screen (CSI 2J), starts a line, reverses the text (RLO). */
const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\nFAKE\u202e';
const ESCAPED = '\\u001b]0;pwned\\u0007\\u001b[2J\\u000aFAKE\\u202e';
/** Any C0/C1 control other than the newline ending a line, or a bidi control. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function expectEscaped(text: string): void {
  expect(text).not.toMatch(RAW);
  expect(text).not.toMatch(/^FAKE/m);
  expect(text).toContain(ESCAPED);
}

beforeAll(async () => {
  await mkdir(join(tmp.dir, 'src'));
});

describe('terminal injection', () => {
  it('explain: a file name in the summary on stdout', async () => {
    const img = join(tmp.dir, `car${HOSTILE}.jpg`);
    await copyFile(clipPath('test1.jpg'), img);
    const r = await runCli(['explain', img], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expectEscaped(r.stdout);
  }, 150_000);

  it('an error naming a missing file is one escaped line', async () => {
    const r = await runCli(['explain', join(tmp.dir, `missing${HOSTILE}.jpg`)], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expectEscaped(expectOneLineError(r));
  }, 90_000);

  it("commander's echo of an unknown command", async () => {
    const r = await runCli([`explode${HOSTILE}`], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).toContain('\\u001b]0;pwned');
  }, 90_000);

  it('MCAP topic names in the "pick one with --topic" error', async () => {
    const rec = join(tmp.dir, 'two-topics.mcap');
    await writeRecording(rec, await sampleJpegs(join(tmp.dir, 'src'), 2, 160), { encoding: 'foxglove-json', topic: `/cam${HOSTILE}`, extraImageTopics: ['/cam/rear'] });
    const r = await runCli(['explain', rec], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    const line = expectOneLineError(r);
    expect(line).toMatch(/2 image topics, pick one with --topic/);
    expectEscaped(line);
  }, 90_000);

  it("class names from a model's metadata.yaml in info's stdout", async () => {
    const dir = join(tmp.dir, 'toy');
    const toy = await writeToyYolo(dir);
    // YAML's double-quoted escapes: \e is ESC, \a is BEL, \n a newline, \u202E the bidi override.
    await writeFile(join(dir, 'metadata.yaml'), 'names:\n  0: "\\e]0;pwned\\a\\e[2J\\nFAKE\\u202E"\n  1: red\n');
    const r = await runCli(['info', '--model', toy.path], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expectEscaped(r.stdout);
  }, 90_000);

  it('progress lines and messages (labels, details, logs)', () => {
    let out = '';
    const stream = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    }) as unknown as NodeJS.WriteStream;
    const p = createProgress(`drive${HOSTILE}`, { stream, intervalMs: 0 });
    p.update({ done: 1, total: 2, details: [`class ${HOSTILE}`] });
    p.log(`note about ${HOSTILE}`);
    p.stop();
    expect(out.split('\n').filter(Boolean)).toHaveLength(2);
    expectEscaped(out);
  });
});

describe('image sequences', () => {
  it('a printf pattern over 200 000 frames is counted (no "Maximum call stack size exceeded")', async () => {
    const dir = join(tmp.dir, 'seq');
    await mkdir(dir);
    const n = 200_000;
    await ffmpegRun(['-f', 'lavfi', '-i', 'color=c=gray:s=16x16', '-frames:v', '1', join(dir, 'f_000000.png')]);
    // Empty files for the rest: the count comes from the names; only the first image is probed.
    for (let i = 1; i < n; i++) closeSync(openSync(join(dir, `f_${String(i).padStart(6, '0')}.png`), 'w'));
    const info = await probeSource(join(dir, 'f_%06d.png'));
    expect(info.frameCount).toBe(n);
    expect([info.width, info.height]).toEqual([16, 16]);
  }, 120_000);
});
