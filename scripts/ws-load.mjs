#!/usr/bin/env node
// Load check for the dashboard server (`npm run load`): one WebSocket client alone, then many at once of which
// a few stop reading. Every healthy client must keep at least 90% of the solo frame rate, and the server's
// memory must stay bounded. Loopback only, bounded in clients and time; stops by itself.
//
//   node scripts/ws-load.mjs [clip] [--clients 20] [--slow 2] [--loops 1] [--json out.json] [-- serve flags]
//   node scripts/ws-load.mjs --url ws://127.0.0.1:8080/ws [--pid <server pid>] [--window <frames>]
//
// Rates are measured over whole loops of the clip (a window of frameCount consecutive frames covers every
// frame once whatever it starts at), so the solo and loaded windows do the same work. The solo rate is
// measured before and after the loaded phase and averaged, which cancels a drift in what else the machine
// is doing (its cores may be shared) to first order. The server's RSS is
// read from /proc/<pid>/status twice a second; "bounded" means the largest sample of the second half of the
// loaded phase is at most 1.2 × the largest of its first half. The server's event-loop delay (its `stats`
// reply: how long callbacks such as pings and handshakes waited) is reported per phase, p99 and max, against
// the targets p99 ≤ 50 ms and max ≤ 200 ms; it is reported, not a pass/fail criterion.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_CLIENTS = 32; // the server's own limit
/** The server this script started, so that a watchdog or Ctrl-C can stop it too. */
let started;

const HELP = `usage: node scripts/ws-load.mjs [clip] [options] [-- extra serve flags]
  --clients <n>   clients in the loaded phase, 1..${MAX_CLIENTS} (default 20)
  --slow <n>      of which this many stop reading (default 2)
  --loops <n>     measure over n loops of the clip, per phase (default 1)
  --window <n>    measure over n frames instead (sources without a frame count)
  --min-ratio <r> the least share of the solo rate a healthy client may get (default 0.9)
  --url <ws-url>  use a running server instead of starting one (loopback only)
  --pid <pid>     that server's process id, for its memory (optional with --url)
  --timeout <s>   give up after this many seconds (default 900)
  --json <file>   also write the numbers as JSON`;

function parseArgs(argv) {
  const o = { clients: 20, slow: 2, loops: 1, minRatio: 0.9, timeout: 900, serveArgs: [] };
  const num = (name, v, min, max) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number from ${min} to ${max}, got "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--') {
      o.serveArgs = argv.slice(i + 1);
      break;
    } else if (a === '--clients') o.clients = Math.round(num(a, next(), 1, MAX_CLIENTS));
    else if (a === '--slow') o.slow = Math.round(num(a, next(), 0, MAX_CLIENTS - 1));
    else if (a === '--loops') o.loops = Math.round(num(a, next(), 1, 20));
    else if (a === '--window') o.window = Math.round(num(a, next(), 2, 100_000));
    else if (a === '--min-ratio') o.minRatio = num(a, next(), 0, 1);
    else if (a === '--url') o.url = next();
    else if (a === '--pid') o.pid = Math.round(num(a, next(), 1, 2 ** 31));
    else if (a === '--timeout') o.timeout = num(a, next(), 10, 7200);
    else if (a === '--json') o.json = next();
    else if (a === '-h' || a === '--help') {
      console.log(HELP);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${HELP}`);
    else if (o.clip === undefined) o.clip = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (o.slow >= o.clients) throw new Error('--slow must leave at least one healthy client');
  if (o.url) {
    const u = new URL(o.url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
    if (!loopback || !/^wss?:$/.test(u.protocol)) throw new Error(`--url must be a ws:// URL on a loopback address, got ${o.url}`);
  }
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** Polls `check` until it returns something other than undefined, or fails after `ms`. */
async function waitFor(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const r = check();
    if (r !== undefined) return r;
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}`);
    await sleep(50);
  }
}

/** Starts `saliencam serve` on a free loopback port; resolves once it prints its URL. */
function startServer(clip, extra, timeoutMs) {
  const args = [join(ROOT, 'bin', 'saliencam.js'), 'serve', ...(clip ? [clip] : []), '--host', '127.0.0.1', '--port', '0', '--loop', ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
  const url = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server printed no URL within ${timeoutMs / 1000} s:\n${log}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`${m[1].replace(/^http/, 'ws')}ws`);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${signal ?? code}) before it was ready:\n${log.trim()}`));
    });
  });
  return { child, url, log: () => log };
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One WebSocket client: arrival time of every frame by seq, and the latest stats the server sent it. */
function connect(url, { slow = false } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c = { ws, slow, hello: undefined, arrivals: new Map(), lastMeta: undefined, frames: 0, bytes: 0, closed: false, pending: undefined, stats: [] };
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        if (c.pending) {
          c.arrivals.set(c.pending.seq, performance.now());
          c.lastMeta = c.pending;
          c.frames++;
          c.bytes += data.length;
        }
        c.pending = undefined;
        return;
      }
      const msg = JSON.parse(data.toString('utf8'));
      if (msg.type === 'hello') {
        c.hello = msg;
        // A slow client reads its greeting, then stops reading altogether.
        if (slow) ws.pause();
      } else if (msg.type === 'frame') c.pending = msg;
      else if (msg.type === 'stats') c.stats.push(msg);
    });
    ws.on('close', () => (c.closed = true));
    ws.once('open', () => resolve(c));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`${url}: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** The server's event-loop delay since the last reset (and a reset, when asked); null if it does not say. */
async function loopDelay(c, reset = false) {
  const before = c.stats.length;
  c.ws.send(JSON.stringify({ v: 1, type: 'stats', ...(reset ? { reset: true } : {}) }));
  try {
    return (await waitFor(() => c.stats[before], 30_000, 'a stats reply')).eventLoop;
  } catch {
    return null;
  }
}

const maxSeq = (clients) => Math.max(0, ...clients.flatMap((c) => [...c.arrivals.keys()]));

/**
 * Frames a second one client received over seq (start, start + window]: its received frames between the
 * last one at or before `start` and the first at or after `start + window`, over the time between those two.
 */
function rateOf(c, start, window) {
  const seqs = [...c.arrivals.keys()].sort((a, b) => a - b);
  const a = [...seqs].reverse().find((s) => s <= start);
  const b = seqs.find((s) => s >= start + window);
  if (a === undefined || b === undefined) return 0;
  const n = seqs.filter((s) => s > a && s <= b).length;
  return (n * 1000) / (c.arrivals.get(b) - c.arrivals.get(a));
}

/** Waits for the next frame after now, then for `window` more; returns the window's first seq. */
async function measure(clients, window, timeoutMs, what) {
  const gone = () => {
    if (clients.some((c) => c.closed)) throw new Error(`a client that was reading was disconnected (${what})`);
  };
  gone();
  const start = (await waitFor(() => { const s = maxSeq(clients); return s > 0 ? s : undefined; }, timeoutMs, `a first frame (${what})`)) + 1;
  const reached = (seq) => () => {
    gone();
    return clients.every((c) => [...c.arrivals.keys()].some((s) => s >= seq)) ? true : undefined;
  };
  await waitFor(reached(start), timeoutMs, `frame ${start} (${what})`);
  await waitFor(reached(start + window), timeoutMs, `${window} frames (${what})`);
  return start;
}

export async function runLoad(o) {
  const deadline = Date.now() + o.timeout * 1000;
  const left = () => Math.max(1000, deadline - Date.now());
  const server = o.url ? undefined : startServer(o.clip, o.serveArgs, Math.min(300_000, left()));
  started = server?.child;
  const pid = server ? server.child.pid : o.pid;
  const rss = [];
  let phase = 'start';
  const sampler = pid ? setInterval(() => { const v = rssMiB(pid); if (v !== undefined) rss.push({ t: performance.now(), phase, mib: v }); }, 500) : undefined;
  const clients = [];
  try {
    const url = o.url ?? (await server.url);
    // Solo: one client alone.
    phase = 'solo';
    const solo = await connect(url);
    await waitFor(() => solo.hello, 10_000, 'hello');
    const src = solo.hello.source;
    const window = o.window ?? (src.frameCount ? src.frameCount * o.loops : undefined);
    if (!window) throw new Error('the source has no frame count (live?): pass --window <frames>');
    await loopDelay(solo, true);
    const soloT0 = performance.now();
    const soloStart = await measure([solo], window, left(), 'solo');
    const soloBefore = rateOf(solo, soloStart, window);
    const soloLoop = await loopDelay(solo);
    const soloSeconds = (performance.now() - soloT0) / 1000;
    solo.ws.close();

    // Loaded: `clients` at once, `slow` of which stop reading after their greeting.
    phase = 'connect';
    for (let i = 0; i < o.clients; i++) clients.push(await connect(url, { slow: i < o.slow }));
    const healthy = clients.filter((c) => !c.slow);
    const slow = clients.filter((c) => c.slow);
    await waitFor(() => (healthy.every((c) => c.frames > 0) ? true : undefined), left(), 'every healthy client to get a frame');
    phase = 'load';
    await loopDelay(healthy[0], true);
    const loadT0 = performance.now();
    const loadStart = await measure(healthy, window, left(), 'loaded');
    const loadLoop = await loopDelay(healthy[0]);
    const loadSeconds = (performance.now() - loadT0) / 1000;
    const loadEnd = performance.now();
    phase = 'end';
    const rates = healthy.map((c) => rateOf(c, loadStart, window));
    const healthyDropped = healthy.map((c) => c.lastMeta?.stats.dropped ?? 0);
    const broadcast = maxSeq(healthy);

    // The slow clients read again: their next fresh frame says how many they were skipped.
    const resumedAt = Date.now();
    for (const c of slow) c.ws.resume();
    const slowReport = [];
    const whilePaused = slow.map((c) => c.arrivals.size);
    for (const [i, c] of slow.entries()) {
      await waitFor(() => (c.closed || (c.lastMeta && c.lastMeta.sentAt >= resumedAt) ? true : undefined), 20_000, 'a resumed slow client to catch up');
      // What arrived after resuming but was sent before: frames that sat in the socket buffers meanwhile.
      const inBuffers = [...c.arrivals.keys()].length - whilePaused[i] - (c.closed ? 0 : 1);
      slowReport.push({ receivedWhilePaused: whilePaused[i], heldInSocketBuffers: inBuffers, dropped: c.lastMeta?.stats.dropped ?? null, open: !c.closed });
    }

    // Solo again: one healthy client stays, the others leave.
    phase = 'solo-after';
    const again = healthy[0];
    for (const c of clients) if (c !== again) c.ws.terminate();
    const afterStart = await measure([again], window, left(), 'solo, after');
    const soloAfter = rateOf(again, afterStart, window);
    const soloFps = (soloBefore + soloAfter) / 2;

    const loadRss = rss.filter((s) => s.phase === 'load');
    const mid = (loadT0 + loadEnd) / 2;
    const firstHalf = Math.max(...loadRss.filter((s) => s.t < mid).map((s) => s.mib));
    const secondHalf = Math.max(...loadRss.filter((s) => s.t >= mid).map((s) => s.mib));
    const rssChecked = Number.isFinite(firstHalf) && Number.isFinite(secondHalf);
    const minRate = Math.min(...rates);
    const result = {
      source: src.name,
      frameSize: `${src.width}x${src.height}`,
      backend: solo.hello.backend,
      window,
      clients: o.clients,
      slowClients: o.slow,
      solo: { fps: soloFps, before: soloBefore, after: soloAfter, seconds: soloSeconds },
      loaded: { seconds: loadSeconds, framesBroadcast: broadcast, meanFrameKiB: healthy[0].bytes / healthy[0].frames / 1024, healthyFps: rates, healthyDropped, minPct: (100 * minRate) / soloFps, medianPct: (100 * median(rates)) / soloFps },
      slow: slowReport,
      eventLoopMs: { solo: soloLoop, loaded: loadLoop, target: { p99: 50, max: 200 } },
      rssMiB: rssChecked ? { max: Math.max(...rss.map((s) => s.mib)), loadFirstHalfMax: firstHalf, loadSecondHalfMax: secondHalf } : null,
      ok: { rate: minRate >= o.minRatio * soloFps, memory: rssChecked ? secondHalf <= 1.2 * firstHalf : null },
    };
    return result;
  } finally {
    if (sampler) clearInterval(sampler);
    for (const c of clients) c.ws.terminate();
    if (server) await stopServer(server.child);
  }
}

function report(r) {
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const lines = [
    `source ${r.source} (${r.frameSize}), backend ${r.backend}, window ${r.window} frames`,
    `solo:   ${f(r.solo.fps)} fps (${f(r.solo.before)} before, ${f(r.solo.after)} after the loaded phase; ${f(r.solo.seconds, 1)} s each)`,
    `loaded: ${r.clients} clients (${r.slowClients} not reading) over ${f(r.loaded.seconds, 1)} s, ${f(r.loaded.meanFrameKiB, 0)} KiB a frame`,
    '',
    ' client | fps   | % of solo | dropped',
    ...r.loaded.healthyFps.map((x, i) => ` ${String(i + 1).padStart(6)} | ${f(x).padStart(5)} | ${f((100 * x) / r.solo.fps, 1).padStart(8)}% | ${r.loaded.healthyDropped[i]}`),
    ...r.slow.map((s, i) => ` slow ${i + 1} | not reading: ${s.dropped} dropped by the server, ${s.heldInSocketBuffers} held in socket buffers, ${s.open ? 'still connected' : 'disconnected'}`),
    '',
    `healthy clients: min ${f(r.loaded.minPct, 1)}%, median ${f(r.loaded.medianPct, 1)}% of the solo rate`,
    r.rssMiB
      ? `server RSS: loaded phase first half max ${f(r.rssMiB.loadFirstHalfMax, 1)} MiB, second half max ${f(r.rssMiB.loadSecondHalfMax, 1)} MiB (overall max ${f(r.rssMiB.max, 1)} MiB)`
      : 'server RSS: not measured (pass --pid with --url)',
    ...['solo', 'loaded'].map((k) => {
      const d = r.eventLoopMs[k];
      if (!d) return `server event loop (${k}): not reported`;
      const meets = d.p99Ms <= r.eventLoopMs.target.p99 && d.maxMs <= r.eventLoopMs.target.max;
      return `server event loop (${k}): delay p99 ${f(d.p99Ms, 0)} ms, max ${f(d.maxMs, 0)} ms over ${f(d.windowMs / 1000, 1)} s (target p99 ≤ ${r.eventLoopMs.target.p99}, max ≤ ${r.eventLoopMs.target.max}: ${meets ? 'met' : 'not met'})`;
    }),
    `${r.ok.rate ? 'PASS' : 'FAIL'} rate${r.ok.memory === null ? '' : `, ${r.ok.memory ? 'PASS' : 'FAIL'} memory`}`,
  ];
  console.log(lines.join('\n'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
    if (!opts.url && opts.clip === undefined) {
      const clip = join(process.env.SALIENCAM_CLIPS ?? fileURLToPath(new URL('../clips/', import.meta.url)), 'test_video.mp4');
      if (existsSync(clip)) opts.clip = clip; // else serve picks the first video it finds
    }
  } catch (err) {
    console.error(`ws-load: ${err.message}`);
    process.exit(2);
  }
  const giveUp = (why) => {
    console.error(`ws-load: ${why}`);
    started?.kill('SIGKILL');
    process.exit(2);
  };
  setTimeout(() => giveUp(`gave up after ${opts.timeout} s`), opts.timeout * 1000 + 30_000).unref();
  process.once('SIGINT', () => giveUp('interrupted'));
  process.once('SIGTERM', () => giveUp('terminated'));
  try {
    const r = await runLoad(opts);
    report(r);
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify(r, null, 2)}\n`);
    process.exitCode = r.ok.rate && r.ok.memory !== false ? 0 : 1;
  } catch (err) {
    console.error(`ws-load: ${err.message}`);
    process.exitCode = 2;
  }
}
