import { describe, expect, it } from 'vitest';
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../src/errors.js';
import type { Frame } from '../src/types.js';
import { openDecoder, type Decoder } from '../src/video/decode.js';
import { probeSource } from '../src/video/probe.js';
import { useTmpDir } from './helpers/clips.js';
import {
  VFR_TIMES,
  loopedClip,
  pngSequence,
  rotatedClip,
  stillJpg,
  textAsMp4,
  truncatedClip,
  variableRateClip,
  video,
} from './helpers/video-fixtures.js';

const tmp = useTmpDir();

/** Frame metadata only: keeping every RGB buffer would hide memory problems and waste it. */
async function collect(decoder: Decoder): Promise<Omit<Frame, 'rgb'>[]> {
  const out: Omit<Frame, 'rgb'>[] = [];
  for await (const f of decoder) {
    expect(f.rgb.length).toBe(f.width * f.height * 3);
    out.push({ index: f.index, time: f.time, width: f.width, height: f.height });
  }
  return out;
}

describe('decoding the sample clip', () => {
  it('yields 38 full-size frames with consecutive indices and increasing times', async () => {
    const decoder = await openDecoder(video());
    const frames = await collect(decoder);
    expect(frames).toHaveLength(38);
    frames.forEach((f, i) => {
      expect(f).toMatchObject({ index: i, width: 1280, height: 720 });
      expect(f.time).toBeCloseTo(i / 25, 6);
    });
    expect(await decoder.done).toEqual({ frames: 38, complete: true, dropped: 0, closed: false });
  });

  it('decodes real pixels (not a blank buffer)', async () => {
    const decoder = await openDecoder(video());
    for await (const f of decoder) {
      let sum = 0;
      for (let i = 0; i < f.rgb.length; i += 97) sum += f.rgb[i]!;
      const mean = sum / Math.ceil(f.rgb.length / 97);
      expect(mean).toBeGreaterThan(30);
      expect(mean).toBeLessThan(220);
      break;
    }
    expect((await decoder.done).closed).toBe(true);
  });

  it('honours start and duration, keeping source indices and times', async () => {
    const frames = await collect(await openDecoder(video(), { start: 0.5, duration: 0.4 }));
    expect(frames).toHaveLength(10);
    expect(frames[0]!.index).toBe(13);
    frames.forEach((f, i) => {
      expect(f.index).toBe(13 + i);
      expect(f.time).toBeCloseTo(0.5 + i * 0.04, 6);
    });
  });

  it('uses real timestamps for variable-frame-rate video', async () => {
    const path = await variableRateClip(tmp.dir);
    const info = await probeSource(path);
    expect(info.fps).not.toBeCloseTo(25, 0); // the average rate, so index/fps would be wrong
    const frames = await collect(await openDecoder(path, { info }));
    expect(frames.map((f) => f.time)).toEqual(VFR_TIMES.map((t) => expect.closeTo(t, 6)));
    expect(frames.map((f) => f.index)).toEqual(VFR_TIMES.map((_, i) => i));
  });

  it('turns rotated video upright', async () => {
    const frames = await collect(await openDecoder(await rotatedClip(tmp.dir)));
    expect(frames).toHaveLength(38);
    expect(frames[0]).toMatchObject({ width: 720, height: 1280 });
  });

  it('reads from stdin and learns size and codec from ffmpeg', async () => {
    const decoder = await openDecoder('-', { stdin: createReadStream(video()) });
    const frames = await collect(decoder);
    expect(frames).toHaveLength(38);
    expect(frames.at(-1)).toMatchObject({ index: 37, width: 1280, height: 720 });
    expect(frames.at(-1)!.time).toBeCloseTo(1.48, 6);
    expect(decoder.info).toMatchObject({ kind: 'stdin', width: 1280, height: 720, codec: 'h264', fps: 25 });
    expect((await decoder.done).complete).toBe(true);
  });
});

describe('network sources', () => {
  it('probes a URL as live and decodes it in full when asked not to drop frames', async () => {
    // Range support matters: ffmpeg seeks inside an mp4 even when reading it front to back.
    const size = statSync(video()).size;
    const server = createServer((req, res) => {
      const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      const end = m?.[2] ? Number(m[2]) : size - 1;
      res.writeHead(m ? 206 : 200, {
        'content-type': 'video/mp4',
        'accept-ranges': 'bytes',
        'content-length': end - start + 1,
        ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      });
      createReadStream(video(), { start, end }).pipe(res);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/drive.mp4`;
      const info = await probeSource(url);
      expect(info).toMatchObject({ kind: 'url', live: true, width: 1280, height: 720 });
      const decoder = await openDecoder(url, { info, live: false });
      expect(await collect(decoder)).toHaveLength(38);
      expect((await decoder.done).complete).toBe(true);
    } finally {
      server.close();
    }
  });
});

describe('stills and image sequences', () => {
  it('decodes a png sequence as 3 frames', async () => {
    const dir = join(tmp.dir, 'seq');
    await mkdir(dir);
    await pngSequence(dir, 3);
    for (const pattern of [join(dir, '*.png'), join(dir, 'frame_%04d.png')]) {
      const decoder = await openDecoder(pattern);
      const frames = await collect(decoder);
      expect(frames.map((f) => f.index), pattern).toEqual([0, 1, 2]);
      expect(frames[2]).toMatchObject({ width: 1280, height: 720 });
      expect((await decoder.done).complete).toBe(true);
    }
  });

  it('decodes a jpg as one frame at time 0', async () => {
    const decoder = await openDecoder(await stillJpg(tmp.dir));
    expect(await collect(decoder)).toEqual([{ index: 0, time: 0, width: 1280, height: 720 }]);
    expect((await decoder.done).complete).toBe(true);
  });
});

describe('broken input', () => {
  it('a truncated file yields what decodes, then reports complete=false with one line', async () => {
    const decoder = await openDecoder(await truncatedClip(tmp.dir));
    const frames = await collect(decoder); // must not throw
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThan(38);
    const result = await decoder.done;
    expect(result.complete).toBe(false);
    expect(result.frames).toBe(frames.length);
    expect(result.error).toMatch(/\S/);
    expect(result.error).not.toContain('\n');
  });

  it('throws a UserError when not one frame decodes', async () => {
    const bad = await textAsMp4(tmp.dir);
    const info = { ...(await probeSource(video())), input: bad }; // skip the probe that would reject it
    const decoder = await openDecoder(bad, { info });
    await expect(collect(decoder)).rejects.toBeInstanceOf(UserError);
    expect((await decoder.done).complete).toBe(false);
  });
});

describe('backpressure', () => {
  it('a slow consumer holds ffmpeg back: at most 2 frames wait, memory does not grow', async () => {
    const decoder = await openDecoder(await loopedClip(tmp.dir, 3)); // 152 frames
    let seen = 0;
    let baseline = 0;
    for await (const f of decoder) {
      void f;
      seen++;
      expect(decoder.buffered).toBeLessThanOrEqual(2);
      if (seen === 3) baseline = process.memoryUsage().arrayBuffers;
      // 1.5 s of not pulling: an unthrottled ffmpeg would push ~100 frames (270 MB) meanwhile.
      if (seen === 4) await sleep(1500);
      if (seen === 5) {
        expect(process.memoryUsage().arrayBuffers - baseline).toBeLessThan(20 * 2_764_800);
        break;
      }
      await sleep(30);
    }
    expect(decoder.peakBuffered).toBeLessThanOrEqual(2);
    expect(await decoder.done).toMatchObject({ frames: 5, complete: false, closed: true });
  });

  it('memory stays flat over a long input read at full speed', async () => {
    const decoder = await openDecoder(await loopedClip(tmp.dir, 4)); // 190 frames, 525 MB of RGB
    let count = 0;
    let peak = 0;
    for await (const f of decoder) {
      void f;
      count++;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }
    expect(count).toBe(190);
    expect(decoder.peakBuffered).toBeLessThanOrEqual(2);
    expect(peak).toBeLessThan(200 * 1024 * 1024);
    expect((await decoder.done).complete).toBe(true);
  });

  it('live mode keeps only the newest frame and counts the dropped ones', async () => {
    const decoder = await openDecoder(video(), { live: true });
    const frames: number[] = [];
    for await (const f of decoder) {
      frames.push(f.index);
      expect(decoder.buffered).toBeLessThanOrEqual(1);
      await sleep(80);
    }
    const result = await decoder.done;
    expect(result.dropped).toBeGreaterThan(0);
    expect(result.frames + result.dropped).toBe(38);
    expect(frames.at(-1)).toBe(37); // the newest frame is never the one dropped
    expect(frames).toEqual([...frames].sort((a, b) => a - b));
  });
});

describe('close', () => {
  it('is safe mid-stream and idempotent, and ends the iteration', async () => {
    const decoder = await openDecoder(await loopedClip(tmp.dir, 3));
    const it = decoder[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    await decoder.close();
    await decoder.close();
    expect((await it.next()).done).toBe(true);
    expect(await decoder.done).toMatchObject({ frames: 1, complete: false, closed: true });
  });

  it('works before iteration started', async () => {
    const decoder = await openDecoder(video());
    await decoder.close();
    expect(await decoder.done).toMatchObject({ frames: 0, closed: true });
  });
});
