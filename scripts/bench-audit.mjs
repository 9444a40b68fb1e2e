// npm run bench:audit — what an audit costs against an export of the same clip, side by side in one run on
// this machine: `saliencam export` of the sample clip (a child process, model load included), then the default
// audit of the same clip at --every 10 (in this process, model load included, as the CLI does it), their ratio,
// the detector runs per audited detection and the share of the audit's time spent inside the engine's calls
// (forward passes and CAMs, summed over threads) rather than around them. As the CLI does, the perturbed and noisy
// copies go to a worker pool (--workers, auto: one per core). Options: --every <n> (10), --methods <list>
// (default set), --workers <n|auto> (auto; 0: all in this thread).
// Then `saliencam audit --budget <s>` of the same clip (a child process, as a user runs it; --budget, 120 by
// default, 0 to skip): its wall time, the frames it audited and whether every method and metric has a 95 %
// interval of non-zero width in its JSON.
// Needs `npm run build` first (it imports dist/).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { every: { type: 'string', default: '10' }, methods: { type: 'string' }, workers: { type: 'string', default: 'auto' }, budget: { type: 'string', default: '120' } } });
const BIN = resolve('bin/saliencam.js');
const CLIP = resolve('clips/test_video.mp4');
const dir = mkdtempSync(join(tmpdir(), 'saliencam-bench-audit-'));
const { Engine } = await import(resolve('dist/engine.js'));
const { parseAuditRun, runAudit } = await import(resolve('dist/audit/run.js'));
const { createInputPool } = await import(resolve('dist/explain/create.js'));
const { writeAuditJson, writeAuditReport } = await import(resolve('dist/audit/write.js'));
const { DEFAULT_AUDIT } = await import(resolve('dist/settings.js'));

try {
  // 1. export
  let t0 = performance.now();
  const ex = spawnSync(process.execPath, [BIN, 'export', CLIP, '-o', join(dir, 'out.mp4'), '--quiet'], { encoding: 'utf8' });
  if (ex.status !== 0) throw new Error(`export failed: ${ex.stderr}`);
  const exportS = (performance.now() - t0) / 1000;

  // 2. the default audit at --every N, engine calls timed and counted
  t0 = performance.now();
  const workers = opt.workers === 'auto' ? 'auto' : Number(opt.workers);
  await (await import(resolve('dist/model/backend.js'))).initBackend('wasm'); // once, before both load side by side
  const [engine, pool] = await Promise.all([Engine.create({ backend: 'wasm' }), createInputPool({ backend: 'wasm', workers })]);
  const inside = { ms: 0, runs: 0 };
  // Per engine call: how many, how many images, and the time inside (summed over threads).
  const byCall = {};
  const timed = (name, runs, on = engine) => {
    const f = on[name].bind(on);
    const row = (byCall[name] ??= { calls: 0, images: 0, ms: 0 });
    on[name] = async (...args) => {
      const t = performance.now();
      try {
        return await f(...args);
      } finally {
        const ms = performance.now() - t;
        inside.ms += ms;
        inside.runs += runs(args);
        row.calls += 1;
        row.images += runs(args);
        row.ms += ms;
      }
    };
  };
  timed('explain', () => 1);
  // One forward pass for all methods of a frame (or a noisy copy).
  timed('explainMethods', () => 1);
  timed('detectInputs', (a) => a[0].length);
  timed('detectBatch', (a) => a[0].length);
  if (pool) {
    timed('explain', () => 1, pool);
    timed('explainMethods', () => 1, pool);
    timed('detectInputs', (a) => a[0].length, pool);
  }
  const methods = opt.methods ? opt.methods.split(',') : DEFAULT_AUDIT.methods;
  const auditStart = performance.now();
  let shown = -1;
  const r = await runAudit(
    CLIP,
    parseAuditRun({ methods, every: Number(opt.every) }),
    engine,
    (p) => {
      if (p.framesDone !== shown) process.stderr.write(`bench:audit: ${(shown = p.framesDone)}/${p.framesTotal ?? '?'} frames, ${p.detectionsDone} detections, ${((performance.now() - auditStart) / 1000).toFixed(0)} s\n`);
    },
    pool ? { perturbed: pool } : {},
  );
  const loopMs = performance.now() - auditStart;
  await writeAuditReport(join(dir, 'a.html'), r.data);
  await writeAuditJson(join(dir, 'a.json'), r.data);
  engine.dispose();
  pool?.dispose();
  const auditS = (performance.now() - t0) / 1000;
  const dets = r.data.detections.length;
  const out = {
    machine: 'shared 2-core VM (other jobs running): compare only the ratio, measured side by side in this run',
    exportS: +exportS.toFixed(1),
    auditS: +auditS.toFixed(1),
    ratio: +(auditS / exportS).toFixed(1),
    every: Number(opt.every),
    workers: pool ? pool.concurrency : 0,
    methods: methods.join(','),
    framesSampled: r.data.framesSampled,
    detections: dets,
    detectorRunsPerDetection: dets ? +(inside.runs / dets).toFixed(1) : null,
    shareInsideEngine: +(inside.ms / loopMs).toFixed(3),
    byCall: Object.fromEntries(Object.entries(byCall).map(([k, v]) => [k, { calls: v.calls, images: v.images, s: +(v.ms / 1000).toFixed(1) }])),
  };
  console.log(`export ${out.exportS} s · audit ${out.auditS} s (--every ${out.every}, ${out.framesSampled} frames, ${dets} detections) · ratio ${out.ratio}`);
  console.log(`detector runs per detection ${out.detectorRunsPerDetection} · share of the audit inside the engine's calls ${(out.shareInsideEngine * 100).toFixed(0)} % (summed over ${out.workers} workers + this thread)`);

  // 3. a budgeted audit, as the CLI runs it
  if (Number(opt.budget) > 0) {
    t0 = performance.now();
    const json = join(dir, 'budget.json');
    const run = spawnSync(process.execPath, [BIN, 'audit', CLIP, '--budget', opt.budget, '--json', json, '--quiet'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`audit --budget failed: ${run.stderr}`);
    const wallS = (performance.now() - t0) / 1000;
    const b = JSON.parse(readFileSync(json, 'utf8'));
    const cells = Object.entries(b.summary.overall).flatMap(([m, row]) => Object.entries(row).filter(([k]) => k !== 'msPerMap').map(([k, v]) => ({ name: `${m}.${k}`, ...v })));
    const flat = cells.filter((c) => !(c.n > 0 && c.ci95 && c.ci95[1] > c.ci95[0]));
    const withWidth = cells.length - flat.length;
    out.budget = { budgetS: Number(opt.budget), wallS: +wallS.toFixed(1), frames: b.framesSampled, detections: b.detections.length, skippedForBudget: b.settings.extra.skippedForBudget, intervals: `${withWidth}/${cells.length}`, withoutWidth: flat.map((c) => `${c.name} (n ${c.n})`) };
    console.log(`audit --budget ${opt.budget}: ${out.budget.wallS} s wall (process start and model load included), ${b.framesSampled} frames, ${b.detections.length} detections, ${withWidth} of ${cells.length} method × metric cells with an interval of non-zero width${flat.length ? ` (not: ${out.budget.withoutWidth.join(', ')})` : ''}${run.stderr.trim() ? `; it said: ${run.stderr.trim()}` : ''}`);
  }
  console.log(JSON.stringify(out));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
