// saliencam's MCAP output read by tools others wrote: `protoc --decode` (Debian's protobuf-compiler, installed by
// .ci/run) must accept the embedded FileDescriptorSet, and an mp4's recording starts at its creation_time (or
// at --start-time), not at 1970.
import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { instantNs } from '../src/cli/options.js';
import { creationNs } from '../src/video/probe.js';
import { expectOneLineError, runCli } from './helpers/cli.js';
import { ffmpegRun, useTmpDir } from './helpers/clips.js';
import { readMcap } from './helpers/mcap-fixtures.js';
import { writeToyYolo } from './helpers/toy-models.js';

const tmp = useTmpDir('mcap-interop-');
let model: string;
let dated: string;
let undated: string;
let datedMcap: Awaited<ReturnType<typeof readMcap>>;
const CREATED = '2024-05-01T12:00:00.000000Z';
const CREATED_NS = 1_714_564_800_000_000_000n;

function protocVersion(): string | undefined {
  try {
    return execFileSync('protoc', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
const protoc = protocVersion();

beforeAll(async () => {
  model = (await writeToyYolo(join(tmp.dir, 'yolo'))).path;
  dated = join(tmp.dir, 'dated.mp4');
  undated = join(tmp.dir, 'undated.mp4');
  const pattern = ['-f', 'lavfi', '-i', 'testsrc=size=128x96:rate=10', '-t', '0.5', '-pix_fmt', 'yuv420p'];
  await ffmpegRun([...pattern, '-metadata', `creation_time=${CREATED}`, dated]);
  await ffmpegRun([...pattern, undated]);
  datedMcap = await exportMcap(dated, 'dated.mcap');
});

async function exportMcap(input: string, name: string, extra: string[] = []) {
  const out = join(tmp.dir, name);
  const r = await runCli(['export', input, '-o', out, '--model', model, '--min-score', '0', '--workers', '0', '-q', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return readMcap(out);
}

describe('MCAP output for other tools', () => {
  it.skipIf(!protoc)(`protoc --decode reads the images with the recording's own schema (${protoc ?? 'protoc not installed'})`, async () => {
    const { byTopic, schemaOf } = datedMcap;
    const schema = schemaOf('/saliency/overlay')!;
    expect(schema.encoding).toBe('protobuf');
    const set = join(tmp.dir, 'set.bin');
    await writeFile(set, schema.data);
    // The descriptor set as protoc itself writes one (--include_imports): the image's file and its import.
    const files = execFileSync('protoc', ['--decode_raw'], { input: schema.data, encoding: 'utf8' });
    expect([...files.matchAll(/^ {2}1: "(.+)"$/gm)].map((m) => m[1])).toEqual(['google/protobuf/timestamp.proto', 'foxglove/CompressedImage.proto']);
    const message = byTopic.get('/saliency/overlay')![0]!;
    const decoded = await promisify(execFile)('sh', ['-c', `protoc --decode ${schema.name} --descriptor_set_in="$1" < "$2"`, 'sh', set, await writeTo('msg.bin', message.data)]);
    expect(decoded.stdout).toMatch(/^timestamp \{\n {2}seconds: 1714564800\n\}\ndata: "\\377\\330\\377/);
    expect(decoded.stdout).toMatch(/format: "jpeg"/);
    expect(decoded.stdout).toMatch(/frame_id: "camera"/);
    // Every map topic shares the schema; protoc reads a PNG map too.
    const mapTopic = [...byTopic.keys()].find((t) => t.startsWith('/saliency/map/'))!;
    const png = await promisify(execFile)('sh', ['-c', `protoc --decode ${schema.name} --descriptor_set_in="$1" < "$2"`, 'sh', set, await writeTo('map.bin', byTopic.get(mapTopic)![0]!.data)]);
    expect(png.stdout).toMatch(/format: "png"/);
  });

  it("an mp4's recording starts at its creation_time; --start-time overrides; the flag's two forms", async () => {
    const times = datedMcap.byTopic.get('/saliency/overlay')!.map((m) => m.logTime);
    expect(times[0]).toBe(CREATED_NS);
    expect(times[1]).toBe(CREATED_NS + 100_000_000n); // 10 fps
    const b = await exportMcap(dated, 'start.mcap', ['--start-time', '2025-01-02T03:04:05.5+01:00']);
    expect(b.byTopic.get('/saliency/overlay')![0]!.logTime).toBe(1_735_783_445_500_000_000n);
    const c = await exportMcap(undated, 'epoch.mcap', ['--start-time', '1700000000.25']);
    expect(c.byTopic.get('/saliency/overlay')![0]!.logTime).toBe(1_700_000_000_250_000_000n);
  });

  it('a bad --start-time is one line, exit 2; placeholder creation times are not times', async () => {
    const r = await runCli(['export', undated, '-o', join(tmp.dir, 'bad.mcap'), '--model', model, '--start-time', 'yesterday']);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r)).toMatch(/--start-time must be an ISO 8601 date-time/);
    // Local times (no zone) would move with the machine's zone; negative or non-numbers are not times.
    for (const bad of ['2024-05-01T12:00:00', '-5', '1e9', '2024-13-45T00:00:00Z']) expect(() => instantNs('--start-time')(bad)).toThrow(/--start-time must be/);
    expect(instantNs('--start-time')('2024-05-01T12:00:00Z')).toBe(CREATED_NS);
    expect(creationNs('1970-01-01T00:00:00.000000Z')).toBeUndefined();
    expect(creationNs('1904-01-01T00:00:00Z')).toBeUndefined();
    expect(creationNs('not a date')).toBeUndefined();
    expect(creationNs(CREATED)).toBe(CREATED_NS);
  });
});

async function writeTo(name: string, data: Uint8Array): Promise<string> {
  const path = join(tmp.dir, name);
  await writeFile(path, data);
  return path;
}
