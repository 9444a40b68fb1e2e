// The dashboard's WebSocket protocol against the real server, decoder, renderer and encoder on the sample
// clip. The engine is a fast stand-in (helpers/stub-engine.ts): these tests are about the server.
import { createReadStream } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAM_METHODS } from '../src/settings.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';
import { stubEngine, type StubEngine } from './helpers/stub-engine.js';
import { sleep, TestClient } from './helpers/ws-client.js';

const wsUrl = (s: RunningServer): string => `ws://127.0.0.1:${s.port}/ws`;

describe('dashboard protocol', () => {
  let server: RunningServer;
  let engine: StubEngine;

  beforeAll(async () => {
    engine = stubEngine();
    server = await startServer({ source: clipPath(TEST_VIDEO), engine, port: 0, loop: true, maxFps: 5, quality: 70 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('greets with hello, state and timeline, then streams frame metadata each followed by its image', async () => {
    const c = await TestClient.connect(wsUrl(server));
    try {
      const hello = await c.next('hello');
      expect(hello).toMatchObject({ v: 1, model: 'stub', backend: 'stub', imageFormat: 'jpeg' });
      expect(hello.source).toMatchObject({ name: TEST_VIDEO, kind: 'file', live: false, seekable: true, loopable: true, width: 1280, height: 720, frameCount: 38 });
      expect(JSON.stringify(hello)).not.toContain(clipPath(TEST_VIDEO)); // never the server's path
      expect(hello.limits.maxMessageBytes).toBe(64 * 1024);
      expect(hello.classNames).toContain('truck');
      await c.next('state');
      await c.next('timeline');
      await c.until(() => (c.frames.length >= 3 ? true : undefined), 15_000, '3 frames');
      const seqs = c.frames.map((f) => f.meta.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      for (const f of c.frames) {
        expect(f.meta.bytes).toBe(f.image.length);
        expect([...f.image.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]); // JPEG
        expect(f.meta.record).toMatchObject({ width: 1280, height: 720, model: 'stub', frame: f.meta.frame, time: f.meta.time });
        expect(f.meta.timeline.classes['car']).toEqual({ count: 2, energy: 0.6 });
        expect(f.meta.timeline.classes['truck']).toEqual({ count: 1, energy: 0.4 });
        expect(f.meta.stats).toMatchObject({ backend: 'stub', dropped: 0 });
        expect(f.meta.stats.latencyMs).toBeGreaterThan(0);
      }
      expect(c.unpaired).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('answers bad and unknown messages with an error, keeps the connection, and lets nothing through', async () => {
    const c = await TestClient.connect(wsUrl(server));
    try {
      await c.next('hello');
      const cases: [unknown, string, string?][] = [
        ['not json{', 'bad_json'],
        ['[1,2]', 'bad_message'],
        [{ v: 1 }, 'bad_message'],
        [{ v: 1, type: 'fly' }, 'unknown_command', 'fly'],
        [{ v: 1, type: 'open', path: '/etc/passwd' }, 'unknown_command', 'open'],
        [{ v: 2, type: 'play' }, 'unsupported_version', 'play'],
        [{ type: 'play' }, 'unsupported_version', 'play'],
        [{ v: 1, type: 'seek', time: -1 }, 'bad_message', 'seek'],
        [{ v: 1, type: 'seek', time: 1, frame: 2 }, 'bad_message', 'seek'],
        [{ v: 1, type: 'seek', time: 1, source: '/etc/passwd' }, 'bad_message', 'seek'],
        [{ v: 1, type: 'set', method: 'rm -rf /' }, 'bad_message', 'set'],
        [{ v: 1, type: 'set', alpha: 7 }, 'bad_message', 'set'],
        [{ v: 1, type: 'set' }, 'bad_message', 'set'],
        [{ v: 1, type: 'set', methodParams: { polycam: { variant: 'huge' } } }, 'bad_message', 'set'],
        [{ v: 1, type: 'set', methodParams: { polycam: { variant: 'minus', path: '/etc/passwd' } } }, 'bad_message', 'set'],
        [{ v: 1, type: 'set', methodParams: { toycam: {} } }, 'bad_message', 'set'],
        [{ v: 1, type: 'set', hiddenClasses: ['../../etc/passwd'] }, 'bad_value', 'set'],
        [{ v: 1, type: '__proto__' }, 'unknown_command', '__proto__'],
      ];
      for (const [msg, code, command] of cases) {
        const from = c.messages.length;
        c.send(msg);
        const err = await c.next('error', () => true, { from });
        expect(err.code, JSON.stringify(msg)).toBe(code);
        if (command) expect(err.command).toBe(command);
        expect(err.message.length).toBeGreaterThan(5);
      }
      let from = c.messages.length;
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      expect((await c.next('error', () => true, { from })).code).toBe('binary_not_accepted');
      // Still connected and served: a ping is answered and frames keep coming.
      from = c.messages.length;
      c.send({ v: 1, type: 'ping', id: 7 });
      expect(await c.next('pong', () => true, { from })).toMatchObject({ id: 7 });
      const framesBefore = c.frames.length;
      await c.frame(() => true, { from: framesBefore });
      expect(c.ws.readyState).toBe(c.ws.OPEN);
      // Nothing invalid reached the engine.
      for (const call of engine.calls) {
        expect(CAM_METHODS).toContain(call.method);
        for (const cls of call.classes ?? []) expect(cls).not.toContain('/');
      }
    } finally {
      c.close();
    }
  });

  it('closes a connection whose message is over 64 KiB with 1009, and no other', async () => {
    const [big, other] = await Promise.all([TestClient.connect(wsUrl(server)), TestClient.connect(wsUrl(server))]);
    try {
      await big.next('hello');
      // Just under the limit: an ordinary error reply.
      const from = big.messages.length;
      big.send({ v: 1, type: 'ping', id: 'x'.repeat(60 * 1024) });
      expect((await big.next('error', () => true, { from })).code).toBe('bad_message');
      big.send({ v: 1, type: 'ping', id: 'x'.repeat(65 * 1024) });
      expect((await big.closed).code).toBe(1009);
      const n = other.frames.length;
      await other.frame(() => true, { from: n });
      expect(other.ws.readyState).toBe(other.ws.OPEN);
    } finally {
      other.close();
    }
  });

  it('limits the command rate per client without disconnecting it', async () => {
    const c = await TestClient.connect(wsUrl(server));
    try {
      await c.next('hello');
      for (let i = 0; i < 200; i++) c.send({ v: 1, type: 'ping', id: i });
      await c.next('error', (e) => e.code === 'rate_limited');
      await sleep(300);
      const pongs = c.messages.filter((m) => m.type === 'pong').length;
      expect(pongs).toBeGreaterThan(10);
      expect(pongs).toBeLessThan(200);
      await sleep(1500);
      const from = c.messages.length;
      c.send({ v: 1, type: 'ping', id: 'again' });
      expect(await c.next('pong', (p) => p.id === 'again', { from })).toBeTruthy();
    } finally {
      c.close();
    }
  });

  it('pause, step, seek, step back, settings on the paused frame, play and loop; every client sees the state', async () => {
    const [c, watcher] = await Promise.all([TestClient.connect(wsUrl(server)), TestClient.connect(wsUrl(server))]);
    try {
      await c.frame();
      let from = c.messages.length;
      c.send({ v: 1, type: 'pause' });
      await c.next('state', (s) => !s.playing, { from });
      await watcher.next('state', (s) => !s.playing);
      await sleep(600); // a frame that was being processed may still arrive
      const paused = c.frames.length;
      await sleep(1200);
      expect(c.frames.length).toBe(paused); // pausing stops the pipeline

      const last = c.frames.at(-1)!.meta.frame;
      c.send({ v: 1, type: 'step' });
      const stepped = await c.frame(() => true, { from: paused });
      expect(stepped.meta.frame).toBe((last + 1) % 38);
      await sleep(800);
      expect(c.frames.length).toBe(paused + 1); // exactly one

      let n = c.frames.length;
      c.send({ v: 1, type: 'seek', frame: 20 });
      expect((await c.frame(() => true, { from: n })).meta.frame).toBe(20);
      n = c.frames.length;
      c.send({ v: 1, type: 'seek', time: 1.0 });
      const at1 = await c.frame(() => true, { from: n });
      expect(at1.meta.frame).toBe(25);
      expect(at1.meta.time).toBeCloseTo(1.0, 2);
      n = c.frames.length;
      c.send({ v: 1, type: 'step', direction: -1 });
      expect((await c.frame(() => true, { from: n })).meta.frame).toBe(24);

      // A new setting re-processes the paused frame.
      n = c.frames.length;
      c.send({ v: 1, type: 'set', colormap: 'viridis', hiddenClasses: ['car'] });
      const redone = await c.frame(() => true, { from: n });
      expect(redone.meta.frame).toBe(24);
      expect(redone.meta.record.detections.map((d) => d.label)).toEqual(['truck']);
      expect(engine.calls.at(-1)!.classes).not.toContain('car');
      expect(engine.calls.at(-1)!.classes).toContain('truck');
      await watcher.next('state', (s) => s.settings.colormap === 'viridis' && s.settings.hiddenClasses.includes('car'));
      n = c.frames.length;
      c.send({ v: 1, type: 'set', perDetection: true, hiddenClasses: [] });
      const perDet = await c.frame(() => true, { from: n });
      expect(perDet.meta.record.saliency.map((s) => s.detectionIndex)).toEqual([0, 1, 2]);

      // Loop on: from near the end, playback wraps to frame 0.
      n = c.frames.length;
      c.send({ v: 1, type: 'seek', frame: 35 });
      await c.frame((f) => f.meta.frame === 35, { from: n });
      c.send({ v: 1, type: 'play' });
      await c.frame((f) => f.meta.frame === 0, { from: n, timeoutMs: 10_000 });
      // Loop off: playback stops at the end.
      from = c.messages.length;
      c.send({ v: 1, type: 'loop', on: false });
      c.send({ v: 1, type: 'seek', frame: 35 });
      const ended = await c.next('state', (s) => s.ended && !s.playing, { from, timeoutMs: 10_000 });
      expect(ended.position?.frame).toBe(37);
    } finally {
      c.send({ v: 1, type: 'set', perDetection: false, colormap: 'turbo' });
      c.send({ v: 1, type: 'loop', on: true });
      c.send({ v: 1, type: 'play' });
      c.close();
      watcher.close();
    }
  });

  it('offers a slow method (polycam) on a paused frame only: refused while playing, explained and announced when paused', async () => {
    const c = await TestClient.connect(wsUrl(server));
    try {
      const hello = await c.next('hello');
      expect(hello.methods).toContain('polycam');
      expect(hello.realtimeMethods).toContain('xgradcam');
      expect(hello.realtimeMethods).not.toContain('polycam');
      // A method's own parameters come with their choices and default (the registry row's schema).
      expect(hello.methodParams['polycam']?.['variant']).toMatchObject({ choices: ['plus', 'minus', 'pm'], default: 'plus' });
      // A detector has no dense-layer class weights: CAM is not offered, and asking for it says why.
      expect(hello.methods).not.toContain('cam');
      await c.frame();
      let from = c.messages.length;
      c.send({ v: 1, type: 'set', method: 'cam' });
      const noCam = await c.next('error', () => true, { from });
      expect(noCam).toMatchObject({ code: 'not_available', command: 'set' });
      expect(noCam.message).toMatch(/^cam is not available for stub; use one of xgradcam/);
      from = c.messages.length;
      c.send({ v: 1, type: 'set', method: 'polycam' });
      const refused = await c.next('error', () => true, { from });
      expect(refused).toMatchObject({ code: 'not_available', command: 'set' });
      expect(refused.message).toMatch(/paused frames only.*pause first/);
      c.send({ v: 1, type: 'pause' });
      await c.next('state', (s) => !s.playing, { from });
      await sleep(600);
      const shown = c.frames.at(-1)!.meta.frame;
      const n = c.frames.length;
      from = c.messages.length;
      c.send({ v: 1, type: 'set', method: 'polycam' });
      const redone = await c.frame(() => true, { from: n });
      expect(redone.meta.frame).toBe(shown);
      expect(redone.meta.record.method).toBe('polycam');
      expect(engine.calls.at(-1)!.method).toBe('polycam');
      expect(engine.calls.at(-1)!.methodParams).toEqual({ polycam: { variant: 'plus' } });
      expect(c.messages.slice(from).some((m) => m.type === 'notice' && m.level === 'info' && /with polycam/.test(m.message))).toBe(true);
      // A parameter of the method re-explains the paused frame with it, and every client's state shows it.
      const m = c.frames.length;
      from = c.messages.length;
      c.send({ v: 1, type: 'set', methodParams: { polycam: { variant: 'minus' } } });
      const minus = await c.frame(() => true, { from: m });
      expect(minus.meta.frame).toBe(shown);
      expect(engine.calls.at(-1)!.methodParams).toEqual({ polycam: { variant: 'minus' } });
      await c.next('state', (s) => s.settings.methodParams.polycam.variant === 'minus', { from });
      from = c.messages.length;
      c.send({ v: 1, type: 'play' });
      expect((await c.next('error', () => true, { from })).message).toMatch(/too slow for playback/);
    } finally {
      c.send({ v: 1, type: 'set', method: 'xgradcam' });
      c.send({ v: 1, type: 'play' });
      c.close();
    }
  });

  it('survives clients that disconnect mid-frame, and serves the others on', async () => {
    const healthy = await TestClient.connect(wsUrl(server));
    await healthy.frame();
    // 1: leaves between a frame's metadata and its image.
    const quitter = await TestClient.connect(wsUrl(server));
    const quit = new Promise<void>((resolve) =>
      quitter.ws.on('message', (_d, isBinary) => {
        if (!isBinary && quitter.messages.length >= 3) {
          quitter.ws.terminate();
          resolve();
        }
      }),
    );
    // 2: sends half a WebSocket frame (a masked text frame announcing 100 bytes, 10 sent), then drops.
    const raw = tcpConnect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    raw.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise<void>((resolve) => raw.once('data', () => resolve()));
    raw.write(Buffer.concat([Buffer.from([0x81, 0x80 | 100, 1, 2, 3, 4]), Buffer.alloc(10, 0x41)]));
    await sleep(100);
    raw.destroy();
    await quit;

    const n = healthy.frames.length;
    await healthy.until(() => (healthy.frames.length >= n + 3 ? true : undefined), 15_000, '3 more frames');
    await healthy.until(() => (server.stats().clients.length === 1 ? true : undefined), 5000, 'the others to be gone');
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
    healthy.close();
  });
});

describe('dashboard on a live source', () => {
  it('plays stdin live: no seek, loop or step back; the decoder skips what the pipeline cannot take', async () => {
    const server = await startServer({ source: '-', stdin: createReadStream(clipPath(TEST_VIDEO)), engine: stubEngine({ delayMs: 150 }), port: 0, quality: 60 });
    try {
      const c = await TestClient.connect(wsUrl(server));
      const hello = await c.next('hello');
      expect(hello.source).toMatchObject({ name: 'stdin', kind: 'stdin', live: true, seekable: false, loopable: false });
      for (const cmd of [{ v: 1, type: 'seek', time: 1 }, { v: 1, type: 'loop', on: true }, { v: 1, type: 'step', direction: -1 }]) {
        const from = c.messages.length;
        c.send(cmd);
        expect((await c.next('error', () => true, { from })).code).toBe('not_available');
      }
      const ended = await c.next('state', (s) => s.ended, { timeoutMs: 30_000 });
      expect(ended.playing).toBe(false);
      expect(c.messages.some((m) => m.type === 'notice' && /live source has ended/.test(m.message))).toBe(true);
      // 38 frames decoded at full speed against ~150 ms a frame: most were skipped, the newest shown.
      expect(c.frames.length).toBeGreaterThan(0);
      expect(c.frames.length).toBeLessThan(38);
      expect(c.frames.at(-1)!.meta.stats.decoderDropped).toBeGreaterThan(0);
      const idx = c.frames.map((f) => f.meta.frame);
      expect([...idx].sort((a, b) => a - b)).toEqual(idx);
      const from = c.messages.length;
      c.send({ v: 1, type: 'play' });
      expect((await c.next('error', () => true, { from })).message).toMatch(/stdin\) has ended/);
      c.close();
    } finally {
      await server.close();
    }
  });
});

describe('dashboard backpressure', () => {
  it('a client that stops reading gets the latest frame only; the others keep their frame rate', async () => {
    // Large frames (no maps to draw, high quality) fill a non-reading client's socket buffers in seconds.
    const server = await startServer({ source: clipPath(TEST_VIDEO), engine: stubEngine({ maps: false }), port: 0, loop: true, maxFps: 5, quality: 95, legend: false });
    const rate = async (c: TestClient, ms: number): Promise<number> => {
      const n = c.frames.length;
      await sleep(ms);
      return ((c.frames.length - n) * 1000) / ms;
    };
    try {
      const healthy = await TestClient.connect(wsUrl(server));
      await healthy.frame();
      const solo = await rate(healthy, 4000);
      expect(solo).toBeGreaterThan(2);

      const slow = await TestClient.connect(wsUrl(server));
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const slowStats = () => server.stats().clients.find((s) => s.id === Math.max(...server.stats().clients.map((c) => c.id)))!;
      await healthy.until(() => (slowStats().dropped > 0 ? true : undefined), 20_000, 'the slow client to fall behind');
      const withSlow = await rate(healthy, 4000);

      const s = slowStats();
      expect(s.maxQueued).toBeLessThanOrEqual(s.queueBound);
      expect(s.queueBound).toBe(1);
      expect(s.bufferedAmount).toBeLessThan(2 * 1024 * 1024); // at most about one frame held in user space
      expect(s.dropped).toBeGreaterThan(3);
      expect(withSlow).toBeGreaterThanOrEqual(0.9 * solo);
      const mine = server.stats().clients.find((c) => c.id !== s.id)!;
      expect(mine.dropped).toBe(0);
      expect(healthy.frames.at(-1)!.meta.stats.dropped).toBe(0);
      slow.ws.terminate();
      healthy.close();
    } finally {
      await server.close();
    }
  });
});
