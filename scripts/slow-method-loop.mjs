#!/usr/bin/env node
// The server's event loop while a slow method (PolyCAM) explains a paused frame: starts `serve` on the sample
// drive, pauses, asks for PolyCAM, then for `--seconds` samples the server's event-loop delay (its `stats`
// reply) and the round trip of a ping from a second client; then sends SIGINT and times the exit.
//   node scripts/slow-method-loop.mjs [--seconds 20] [--method polycam]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, method: { type: 'string', default: 'polycam' } } });
const seconds = Number(values.seconds);
const child = spawn(process.execPath, ['bin/saliencam.js', 'serve', '--port', '0', '--paused'], { stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (out += d));
const url = await new Promise((ok, fail) => {
  const t = setTimeout(() => fail(new Error(`no URL:\n${out}`)), 120_000);
  child.stdout.on('data', () => {
    const m = /dashboard for \S+ at (http:\/\/\S+)/.exec(out);
    if (m) (clearTimeout(t), ok(m[1].replace(/^http/, 'ws').replace(/\/$/, '') + '/ws'));
  });
});
const open = (u) => new Promise((ok, fail) => { const ws = new WebSocket(u); ws.once('open', () => ok(ws)); ws.once('error', fail); });
const viewer = await open(url);
const other = await open(url);
const replies = [];
viewer.on('message', (d, bin) => !bin && replies.push(JSON.parse(d.toString())));
const next = (type, from) => new Promise((ok) => { const i = setInterval(() => { const m = replies.slice(from).find((r) => r.type === type); if (m) (clearInterval(i), ok(m)); }, 5); });
const send = (ws, m) => ws.send(JSON.stringify({ v: 1, ...m }));
await new Promise((r) => setTimeout(r, 3000)); // the paused first frame
send(viewer, { type: 'set', method: values.method });
await new Promise((r) => setTimeout(r, 500));
const noticed = replies.find((r) => r.type === 'notice');
let from = replies.length;
send(viewer, { type: 'stats', reset: true });
await next('stats', from);
const rtts = [];
other.on('pong', () => rtts.push(performance.now() - other.pingAt));
const pinger = setInterval(() => { other.pingAt = performance.now(); other.ping(); }, 100);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(pinger);
from = replies.length;
send(viewer, { type: 'stats' });
const stats = await next('stats', from);
rtts.sort((a, b) => a - b);
const t0 = performance.now();
const exited = new Promise((ok) => child.on('exit', (code) => ok(code)));
child.kill('SIGINT');
const code = await exited;
console.log(JSON.stringify({
  method: values.method,
  notice: noticed?.message,
  seconds,
  eventLoop: stats.eventLoop,
  pingRttMs: { n: rtts.length, p50: Math.round(rtts[Math.floor(rtts.length / 2)] ?? NaN), max: Math.round(rtts.at(-1) ?? NaN) },
  exitAfterSigintMs: Math.round(performance.now() - t0),
  exitCode: code,
}, null, 1));
process.exit(0);
