// `saliencam fleet add|worker|status|report`: many drives on many machines through BullMQ on Redis
// (README: Fleet runs). The work itself is in src/fleet/.
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { EXIT, UserError } from '../errors.js';
import { addDrives, RedisLostError, type AddResult } from '../fleet/add.js';
import { checkAuditSettings } from '../fleet/adapter.js';
import { checkRedis } from '../fleet/connection.js';
import { writeFleetReport } from '../fleet/report.js';
import { isBuiltinModel } from '../fleet/paths.js';
import { fleetSettingsSchema, type FleetSettings } from '../fleet/settings.js';
import { fleetStatus, statusText, withQueue } from '../fleet/status.js';
import { runWorker } from '../fleet/worker.js';
import type { AuditMethod } from '../audit/methods.js';
import { auditSchema, parseSettings } from '../settings.js';
import { terminalSafe } from '../terminal-text.js';
import { checkOutputPath } from '../video/index.js';
import { addExplainOptions, addRenderOptions, auditMethodList, methodParamsFromFlags, numberIn, renderOptions, schemaOption, type ExplainFlags, type RenderFlags } from './options.js';

const OUTPUT = { writeErr: (s: string) => process.stderr.write(s.startsWith('error:') ? `saliencam: ${s}` : s) };
const redisOption = (cmd: Command): Command => cmd.requiredOption('--redis <url>', 'Redis URL, redis://[:password@]host:port[/db] (rediss:// for TLS)');

interface AddFlags extends ExplainFlags, RenderFlags {
  redis: string;
  out: string;
  export?: boolean;
  audit?: boolean;
  segment: number;
  every: number;
  auditEvery?: number;
  methods?: AuditMethod[];
  steps?: number;
  samples?: number;
  randomMaps?: number;
}

/** `fleet add`'s audit flags: the audit schema's own (auditSchema), `--every` spelled `--audit-every` beside export's. */
function addAuditOptions(cmd: Command): Command {
  const a = auditSchema.shape;
  return cmd
    .addOption(schemaOption('every', a.every, { flag: '--audit-every', description: 'audit: every n-th frame' }))
    .addOption(new Option('--methods <list>', `audit: ${a.methods.description}`).argParser(auditMethodList))
    .addOption(schemaOption('steps', a.steps, { description: 'audit: deletion/insertion steps' }))
    .addOption(schemaOption('samples', a.samples, { description: 'audit: max-sensitivity samples (0 = skip)' }))
    .addOption(schemaOption('randomMaps', a.randomMaps, { description: 'audit: random maps per detection' }));
}

function addCommand(): Command {
  const cmd = redisOption(new Command('add'))
    .description('queue drives: one job per drive (content hash + settings), split into segment jobs')
    .argument('<drives...>', 'video files or globs ("drives/**/*.mp4")')
    .requiredOption('--out <dir>', 'output folder, the same path on every worker machine (a shared mount)')
    .option('--export', 'annotated clip + NDJSON sidecar per drive (the default when neither is given)')
    .option('--audit', 'faithfulness audit per drive (HTML + JSON)')
    .option('--segment <s>', 'seconds of drive per job', numberIn('--segment', 0.01, 86400), 60)
    .option('--every <n>', 'export: explain every n-th frame, reuse the last maps in between', numberIn('--every', 1, 10000, true), 1);
  addAuditOptions(cmd);
  addExplainOptions(cmd);
  addRenderOptions(cmd);
  return cmd.action(async (drives: string[], f: AddFlags) => {
    const settings = fleetSettings(f);
    await checkRedis(f.redis);
    let results: AddResult[];
    try {
      results = await addDrives(f.redis, drives, f.out, settings);
    } catch (err) {
      // Redis went away part way: what was done is listed before the one line that says so.
      if (err instanceof RedisLostError) printAdded(err.results);
      throw err;
    }
    if (printAdded(results)) process.exitCode = EXIT.usage;
  });
}

/** One line per drive (queued ones on stdout, bad ones on stderr); returns how many were bad. */
function printAdded(results: AddResult[]): number {
  let bad = 0;
  for (const r of results) {
    if (r.outcome === 'error') {
      bad++;
      process.stderr.write(`saliencam: ${terminalSafe(r.error ?? r.drive)}\n`);
    } else {
      process.stdout.write(`${terminalSafe(`${r.outcome}: ${r.drive}${r.segments ? ` (${r.segments} segments)` : ''} ${r.id}${r.error ? ` — the worker will fail it: ${r.error}` : ''}`)}\n`);
    }
  }
  return bad;
}

function fleetSettings(f: AddFlags): FleetSettings {
  // A job never names code for a worker to load: an adapter module would be exactly that.
  if (f.adapter) throw new UserError('fleet add: --adapter is not supported (a job must not name code to run); use a built-in model or a model.json inside the workers\' --allow folders');
  const explain = {
    // Workers on other machines resolve nothing against this machine's folder: any model but a built-in one
    // is a path, and goes absolute (a worker loads it only from inside its --allow folders).
    model: isBuiltinModel(f.model) ? f.model : resolve(f.model),
    backend: f.backend,
    ...(f.layer ? { layer: f.layer } : {}),
    batching: f.batching,
    method: f.method,
    classes: f.classes ?? [],
    minScore: f.minScore,
    perDetection: Boolean(f.perDetection),
    methodParams: methodParamsFromFlags(f),
  };
  let audit: FleetSettings['audit'];
  if (f.audit) {
    const given = { every: f.auditEvery, methods: f.methods, steps: f.steps, samples: f.samples, randomMaps: f.randomMaps };
    // The flags' defaults are the audit schema's: parse fills in what was not given, then the job takes its part.
    const a = parseSettings(auditSchema, Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)), (m) => new UserError(m));
    audit = { every: a.every, methods: a.methods, steps: a.steps, samples: a.samples, randomMaps: a.randomMaps };
    checkAuditSettings(audit, explain);
  }
  const parsed = fleetSettingsSchema.safeParse({
    export: Boolean(f.export) || !f.audit,
    ...(audit ? { audit } : {}),
    segment: f.segment,
    every: f.every,
    explain,
    render: renderOptions(f),
  });
  if (!parsed.success) throw new UserError(`bad settings: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function workerCommand(): Command {
  return redisOption(new Command('worker'))
    .description('run queued jobs (any number of machines); Ctrl-C finishes the running jobs, twice exits now')
    .requiredOption('--allow <dir...>', 'folders jobs may read drives from and write outputs to (anything else is refused)')
    .option('--concurrency <n>', 'jobs at once, each in its own process (about one per 1-2 cores)', numberIn('--concurrency', 1, 64, true), 1)
    .option('--lock <s>', "seconds without a heartbeat before a job counts as its worker's loss and runs elsewhere", numberIn('--lock', 2, 3600), 30)
    .option('-q, --quiet', 'failures and Redis outages only')
    .action(async (f: { redis: string; allow: string[]; concurrency: number; lock: number; quiet?: boolean }) => {
      await checkRedis(f.redis);
      await runWorker({ redis: f.redis, concurrency: f.concurrency, allow: f.allow.map((d) => resolve(d)), lockSeconds: f.lock, quiet: Boolean(f.quiet) });
    });
}

function statusCommand(): Command {
  return redisOption(new Command('status'))
    .description('job counts, per-drive progress and failure reasons')
    .option('--json', 'print JSON')
    .action(async (f: { redis: string; json?: boolean }) => {
      await checkRedis(f.redis);
      const status = await withQueue(f.redis, fleetStatus);
      if (f.json) process.stdout.write(`${JSON.stringify({ counts: status.counts, drives: status.drives.map(({ summary: _s, ...d }) => d) }, null, 2)}\n`);
      else process.stdout.write(statusText(status));
    });
}

function reportCommand(): Command {
  return redisOption(new Command('report'))
    .description('one HTML report and/or JSON over all drives: worst drives and frames first')
    .option('--report <file.html>', 'HTML report')
    .option('--json <file.json>', 'the same as JSON')
    .action(async (f: { redis: string; report?: string; json?: string }) => {
      if (!f.report && !f.json) throw new UserError('fleet report: give --report <file.html> and/or --json <file.json>');
      if (f.report && f.json && resolve(f.report) === resolve(f.json)) throw new UserError('--report and --json must be different files');
      if (f.report) await checkOutputPath(f.report);
      if (f.json) await checkOutputPath(f.json);
      await checkRedis(f.redis);
      const status = await withQueue(f.redis, fleetStatus);
      const r = await writeFleetReport(status, { ...(f.report ? { report: f.report } : {}), ...(f.json ? { json: f.json } : {}) });
      process.stdout.write(`${r.overall.drives} drives (${r.overall.completed} done, ${r.overall.failed} failed), ${r.overall.frames} frames${[f.report, f.json].filter(Boolean).map((p) => `; wrote ${terminalSafe(p!)}`).join('')}\n`);
    });
}

export function fleetCommand(): Command {
  const cmd = new Command('fleet').description('export and audit many drives on many machines (BullMQ on Redis)');
  for (const sub of [addCommand(), workerCommand(), statusCommand(), reportCommand()]) cmd.addCommand(sub.exitOverride().configureOutput(OUTPUT));
  return cmd;
}
