// Hostile and broken MCAP recordings (issue #26, classes 1–2): lengths, offsets, declared chunk sizes and
// summary counts are claims of the file, checked before anything is allocated or planned. Each case is a
// generated file, run through the CLI: its exit code, its one line, its peak RSS, and a bound on its time.
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { planSegments } from '../src/fleet/segments.js';
import { probeSource } from '../src/video/index.js';
import { useTmpDir } from './helpers/clips.js';
import { expectOneLineError } from './helpers/cli.js';
import { T0, sampleH264Units, sampleJpegs, writeRecording } from './helpers/mcap-fixtures.js';
import { runCliMeasured } from './helpers/peak-rss.js';

const tmp = useTmpDir('saliencam-hardening-rec-');
const at = (name: string) => join(tmp.dir, name);
/** What a failed `explain x.mcap` may cost at most: Node, sharp and the recording's reader, no model. */
const RSS_BOUND_MIB = 300; // measured 139–169 MiB

const OP = { chunk: 0x06, chunkIndex: 0x08, statistics: 0x0b, dataEnd: 0x0f } as const;

interface Rec {
  op: number;
  /** Offset of the record's content. */
  content: number;
}

/** The records from `from` until `to` or a DataEnd record. */
function records(buf: Buffer, from: number, to = buf.length): Rec[] {
  const out: Rec[] = [];
  for (let o = from; o + 9 <= to; ) {
    const op = buf[o]!;
    out.push({ op, content: o + 9 });
    if (op === OP.dataEnd) break;
    o += 9 + Number(buf.readBigUInt64LE(o + 1));
  }
  return out;
}

/** The footer's fields' offsets (magic 8 bytes at the end, before it the footer record of 9 + 20 bytes). */
function footer(buf: Buffer): { summaryStart: number; crcAt: number } {
  const content = buf.length - 8 - 20;
  return { summaryStart: Number(buf.readBigUInt64LE(content)), crcAt: content + 16 };
}

/** The summary's records, with the summary CRC switched off (0) so that edits to them are read as written. */
function summary(buf: Buffer): Rec[] {
  const f = footer(buf);
  buf.writeUInt32LE(0, f.crcAt);
  return records(buf, f.summaryStart, buf.length - 8 - 29);
}

const GiB = 1n << 30n;
const fx: Record<string, string> = {};

beforeAll(async () => {
  await mkdir(at('src'), { recursive: true });
  const jpegs = await sampleJpegs(at('src'), 4, 320);
  const good = at('good.mcap');
  await writeRecording(good, jpegs, { encoding: 'foxglove-json' });
  const bytes = await readFile(good);
  const edit = async (name: string, change: (b: Buffer) => Buffer | void): Promise<void> => {
    const b = Buffer.from(bytes);
    fx[name] = at(`${name}.mcap`);
    await writeFile(fx[name], change(b) ?? b);
  };
  const chunks = (b: Buffer) => records(b, 8).filter((r) => r.op === OP.chunk);

  await edit('magic5', () => bytes.subarray(0, 5));
  fx.hello = at('hello.mcap');
  await writeFile(fx.hello, 'hello');
  await edit('cut2k', () => bytes.subarray(0, 2048));
  // The magic, then a header record whose length claims 3 GiB (under Buffer.alloc's limit), in a file of 57 bytes.
  await edit('hugeHeader', () => {
    const b = Buffer.alloc(57);
    bytes.copy(b, 0, 0, 9);
    b.writeBigUInt64LE(3n * GiB, 9);
    return b;
  });
  // A 301 MiB sparse file (no disk used): the header, then a record whose 300 MiB would be buffered whole.
  fx.bigRecord = at('big-record.mcap');
  {
    const prefix = bytes.subarray(0, 8 + 9 + Number(bytes.readBigUInt64LE(9)));
    const head = Buffer.alloc(9);
    head[0] = 0x80; // a user opcode: readers skip it, once it is whole
    head.writeBigUInt64LE(300n << 20n, 1);
    await writeFile(fx.bigRecord, Buffer.concat([prefix, head]));
    await truncate(fx.bigRecord, 301 * 2 ** 20);
  }
  await edit('hugeChunkIndex', (b) => {
    for (const r of summary(b)) if (r.op === OP.chunkIndex) b.writeBigUInt64LE(3n * GiB, r.content + 24);
  });
  const bomb = (b: Buffer): void => {
    for (const r of chunks(b)) b.writeBigUInt64LE(4n * GiB, r.content + 16);
  };
  await edit('zstdBomb', bomb);
  // The same without its footer: read as a stream, record by record.
  await edit('zstdBombStreamed', (b) => {
    bomb(b);
    return b.subarray(0, b.length - 37);
  });
  const unknown = (b: Buffer): void => {
    for (const r of chunks(b)) b.write('zzzz', r.content + 32, 'latin1');
  };
  await edit('unknownCompression', unknown);
  await edit('unknownCompressionStreamed', (b) => {
    unknown(b);
    return b.subarray(0, b.length - 37);
  });
  await edit('billionMessages', (b) => {
    for (const r of summary(b)) {
      if (r.op !== OP.statistics) continue;
      b.writeBigUInt64LE(1_000_000_000n, r.content);
      b.writeBigUInt64LE(1_000_000_000n, r.content + 48); // channel_message_counts' first entry
    }
  });
  fx.h265 = at('h265.mcap');
  await writeRecording(fx.h265, await sampleH264Units(at('src'), 3, 320), { encoding: 'foxglove-video', videoFormat: 'h265' });
  // A drive whose third message is stamped in the year 2262 (near the top of a signed 64-bit ns time).
  fx.absurdTimes = at('absurd-times.mcap');
  await writeRecording(fx.absurdTimes, jpegs, { encoding: 'foxglove-json', times: [T0, T0 + 40_000_000n, 9_200_000_000_000_000_000n, T0 + 120_000_000n] });
}, 120_000);

interface Case {
  name: string;
  file: () => string;
  message: RegExp;
}

const CASES: Case[] = [
  { name: 'a 5-byte file starting like an MCAP', file: () => fx.magic5!, message: /magic5\.mcap is truncated \(5 bytes/ },
  { name: 'a 5-byte text file named .mcap', file: () => fx.hello!, message: /hello\.mcap is not an MCAP file/ },
  { name: 'the first 2 KB of a recording', file: () => fx.cut2k!, message: /cut2k\.mcap: the recording is truncated .*no camera image topic before that point/ },
  { name: 'a 57-byte file whose header claims 3 GiB', file: () => fx.hugeHeader!, message: /hugeHeader\.mcap: the recording is truncated/ },
  { name: 'a 300 MiB record in a 301 MiB file (streamed)', file: () => fx.bigRecord!, message: /a record at byte \d+ claims 300 MiB \(limit 256 MiB\); no camera image topic before that point/ },
  { name: 'a chunk index claiming a 3 GiB chunk', file: () => fx.hugeChunkIndex!, message: /no messages .*points past the end of the file/ },
  { name: 'a zstd chunk declaring 4 GiB uncompressed (indexed)', file: () => fx.zstdBomb!, message: /a zstd chunk claims 4096 MiB uncompressed \(limit 256 MiB\)/ },
  { name: 'a zstd chunk declaring 4 GiB uncompressed (streamed)', file: () => fx.zstdBombStreamed!, message: /a zstd chunk claims 4096 MiB uncompressed .*no camera image topic before that point/ },
  { name: 'an unknown chunk compression', file: () => fx.unknownCompression!, message: /chunk compression "zzzz" is not supported \(zstd, lz4 and bz2 are\)/ },
  { name: 'an unknown chunk compression (streamed)', file: () => fx.unknownCompressionStreamed!, message: /chunk compression "zzzz" is not supported .*no camera image topic before that point/ },
  { name: 'an H.265 CompressedVideo topic', file: () => fx.h265!, message: /video format "h265" is not supported \(H\.264 only\)/ },
  { name: 'absurd log times', file: () => fx.absurdTimes!, message: /more than 30 days: not one drive \(corrupt log times\)/ },
];

describe('hostile recordings: one line, exit 2, bounded memory and time', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = await runCliMeasured(['explain', c.file(), '-q'], { timeoutMs: 60_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(2);
    const line = expectOneLineError(r);
    expect(line).toMatch(c.message);
    expect(line).not.toMatch(/topics: none/);
    expect(r.peakRssMiB, r.stderr).toBeLessThan(RSS_BOUND_MIB);
  }, 90_000);
});

describe('summary counts are claims, not plans', () => {
  it('Statistics claiming 1e9 messages over 0.13 s: the count is not believed', async () => {
    const info = await probeSource(fx.billionMessages!);
    expect(info.frameCount).toBeUndefined();
    expect(info.frameCountExact).toBe(false);
    expect(info.fps).toBe(0);
    // Planned from what was probed: one segment, not millions.
    expect(planSegments(info, 60)).toHaveLength(1);
  }, 60_000);

  it('the good recording keeps its exact count', async () => {
    const info = await probeSource(at('good.mcap'));
    expect(info.frameCount).toBe(4);
    expect(info.frameCountExact).toBe(true);
  }, 60_000);

  it('fleet planning refuses a drive that would need more than 100 000 segment jobs', () => {
    expect(() => planSegments({ fps: 1, frameCount: 1e9 }, 60)).toThrow(UserError);
    expect(() => planSegments({ fps: 1, frameCount: 1e9 }, 60)).toThrow(/16666667 segments/);
    expect(planSegments({ fps: 30, frameCount: 30 * 3600 }, 60)).toHaveLength(60);
  });
});
