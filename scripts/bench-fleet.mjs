// npm run bench:fleet — fleet throughput with 1 and with 2 worker processes on this machine, side by side in
// one run: the same drives (copies of the sample clip with different bytes), a fresh redis-server and output
// folder for each run, wall time from starting the workers to the last merged drive (model loads included).
// Options: --drives <n> (default 4), --segment <s> (0.5), --every <n> (10).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { drives: { type: 'string', default: '4' }, segment: { type: 'string', default: '0.5' }, every: { type: 'string', default: '10' } } });
const BIN = resolve('bin/saliencam.js');
const CLIP = resolve('clips/test_video.mp4');
const FRAMES_PER_DRIVE = 38;
if (spawnSync('redis-server', ['--version']).error) {
  console.error('bench:fleet: redis-server is not installed (apt-get install -y redis-server)');
  process.exit(2);
}
const { ffmpeg } = await import(resolve('dist/video/index.js')).then((m) => m.locateFfmpeg());
const root = mkdtempSync(join(tmpdir(), 'saliencam-bench-fleet-'));
const drives = join(root, 'drives');
mkdirSync(drives);
const n = Number(opt.drives);
for (let i = 0; i < n; i++) execFileSync(ffmpeg, ['-v', 'error', '-nostdin', '-y', '-i', CLIP, '-c', 'copy', '-metadata', `title=bench drive ${i}`, join(drives, `drive-${i}.mp4`)]);

const freePort = () => new Promise((res) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });

async function redis() {
  const dir = mkdtempSync(join(root, 'redis-'));
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((res, rej) => { let log = ''; proc.stdout.on('data', (d) => { log += d; if (log.includes('Ready to accept')) res(); }); proc.once('exit', () => rej(new Error(log))); });
  proc.stdout.resume();
  return { url: `redis://127.0.0.1:${port}`, stop: () => new Promise((res) => { proc.once('exit', res); proc.kill('SIGTERM'); }) };
}

function cli(args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`saliencam ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function run(workers) {
  const r = await redis();
  const out = join(root, `out-${workers}`);
  try {
    cli(['fleet', 'add', join(drives, '*.mp4'), '--redis', r.url, '--out', out, '--segment', opt.segment, '--every', opt.every]);
    const t0 = performance.now();
    const procs = Array.from({ length: workers }, () => spawn(process.execPath, [BIN, 'fleet', 'worker', '--redis', r.url, '--allow', root, '-q'], { stdio: 'inherit' }));
    for (;;) {
      await new Promise((res) => setTimeout(res, 1000));
      const s = JSON.parse(cli(['fleet', 'status', '--redis', r.url, '--json']));
      if (s.drives.some((d) => d.state === 'failed')) throw new Error(`a drive failed: ${JSON.stringify(s.drives)}`);
      if (s.drives.every((d) => d.state === 'completed')) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(procs.map((p) => new Promise((res) => { p.once('exit', res); p.kill('SIGTERM'); })));
    return { workers, seconds, fps: (n * FRAMES_PER_DRIVE) / seconds };
  } finally {
    await r.stop();
  }
}

try {
  console.log(`bench:fleet: ${n} drives × ${FRAMES_PER_DRIVE} frames, --segment ${opt.segment} --every ${opt.every}, ${availableParallelism()} cores`);
  const one = await run(1);
  const two = await run(2);
  for (const r of [one, two]) console.log(`  ${r.workers} worker${r.workers > 1 ? 's' : ' '}: ${r.seconds.toFixed(1)} s, ${r.fps.toFixed(2)} frames/s`);
  console.log(`  ratio 2 / 1 workers: ${(two.fps / one.fps).toFixed(2)}×`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
