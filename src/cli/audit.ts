// `saliencam audit <source>`: how faithful is each saliency method on this drive? Samples frames, explains
// every detection with each method, scores the maps against random maps and writes an HTML report and JSON.
import { camMethod } from '../saliency/methods/index.js';
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { aggregate } from '../audit/aggregate.js';
import { groundTruth, readLabelsFile, sourceFiles } from '../audit/ground-truth.js';
import { IG } from '../audit/methods.js';
import { parseAuditRun, runAudit, type AuditProgress, type AuditRun } from '../audit/run.js';
import type { AuditReportData, Spread } from '../audit/types.js';
import { writeAuditJson, writeAuditReport } from '../audit/write.js';
import { Engine } from '../engine.js';
import { createInputPool } from '../explain/create.js';
import type { WorkerPoolExplainer } from '../explain/worker-pool.js';
import { initBackend } from '../model/backend.js';
import { EXIT, UserError } from '../errors.js';
import { checkOutputPath, probeSource } from '../video/index.js';
import { createProgress, type ProgressUpdate } from './progress.js';
import { onInterrupt } from './signals.js';
import { addTopicOption, sourceWithTopic } from './topic.js';
import { auditSchema, explainSchema, type AuditOptions } from '../settings.js';
import { addMethodParamOptions, addModelOptions, addWorkerOption, auditMethodList, classList, engineOptions, methodParamsFromFlags, schemaOption, type ModelFlags } from './options.js';
import { terminalSafe, terminalSafeLines } from '../terminal-text.js';

interface Flags extends ModelFlags, Partial<AuditOptions> {
  report?: string;
  json?: string;
  classes?: string[];
  minScore: number;
  title?: string;
  quiet?: boolean;
  topic?: string;
  labels?: string;
}

/** The audit run its flags stand for, checked against the schema (bad values: the same one line as everywhere). */
function auditRun(flags: Flags): AuditRun {
  const given = Object.fromEntries(Object.keys(auditSchema.shape).flatMap((k) => (flags[k as keyof Flags] !== undefined ? [[k, flags[k as keyof Flags]]] : [])));
  return parseAuditRun({ ...given, classes: flags.classes ?? [], minScore: flags.minScore, methodParams: methodParamsFromFlags(flags), ...(flags.title ? { title: flags.title } : {}) });
}

export function auditCommand(): Command {
  const cmd = new Command('audit')
    .description('score how faithful each saliency method is on a drive: HTML report + JSON')
    .argument('<source>', 'a video file or .mcap recording (or image, image pattern, URL, - for stdin)')
    .option('--report <file>', 'write the self-contained HTML report')
    .option('--json <file>', 'write the numbers as JSON');
  // The audit's own flags: choices, bounds, defaults and help from the settings schema (auditSchema).
  for (const [key, schema] of Object.entries(auditSchema.shape)) {
    // A method list reads as "a,b,c" and names an unknown or repeated method itself.
    cmd.addOption(key === 'methods' ? new Option('--methods <list>', schema.description).argParser(auditMethodList) : schemaOption(key, schema));
  }
  cmd
    .option('--classes <list>', 'comma-separated class labels to audit (default: every detected class)', classList)
    .addOption(schemaOption('minScore', explainSchema.shape.minScore, { description: 'detections below this score are not audited, 0..1' }));
  addMethodParamOptions(cmd)
    .option('--labels <file>', 'ground truth (COCO JSON, e.g. a corrected export): recall, precision, misses with their why-not maps, confusions, false positives')
    .option('--title <text>', 'report title')
    .option('-q, --quiet', 'no progress and no summary; warnings and errors only')
    // A subcommand does not inherit the program's output settings: keep flag errors to one 'saliencam:' line.
    .configureOutput({ writeErr: (s) => process.stderr.write(terminalSafeLines(s.startsWith('error:') ? `saliencam: ${s}` : s)) });
  addTopicOption(cmd);
  addModelOptions(cmd);
  addWorkerOption(cmd);
  return cmd.action(async (sourceArg: string, flags: Flags) => {
    const source = sourceWithTopic(sourceArg, flags.topic);
    if (!flags.report && !flags.json) throw new UserError('audit: give --report <file.html> and/or --json <file.json>');
    if (flags.report && flags.json && resolve(flags.report) === resolve(flags.json)) throw new UserError('--report and --json must be different files');
    // Everything that can be wrong with the command line fails here, before the model loads.
    const a = auditRun(flags);
    if (flags.report) await checkOutputPath(flags.report);
    if (flags.json) await checkOutputPath(flags.json);
    const info = await probeSource(source);
    const labelsFile = flags.labels !== undefined ? await readLabelsFile(flags.labels) : undefined;

    const progress = createProgress('audit', { quiet: Boolean(flags.quiet), unit: 'sampled frames', lineEachUnit: true });
    const warn = (msg: string): void => progress.log(msg);
    for (const m of a.methods) {
      if (m !== IG && camMethod(m).scoresBatches) warn(`${m} runs one forward pass per feature channel (hundreds per frame): expect minutes per frame; --every / --max-frames bound the work`);
    }
    if (a.methods.includes(IG)) warn(`ig runs ${a.igSteps} gradient passes through the whole model per detection: expect minutes per detection on a CPU backend`);

    const controller = new AbortController();
    const release = onInterrupt(() => {
      warn('interrupted: finishing the current step and writing what was audited (again to quit at once)');
      controller.abort();
    });

    // The perturbed copies are scored, and max-sensitivity's noisy copies explained, on worker threads
    // (--workers; auto: one per core on WASM/CPU), loaded beside the engine that detects and explains here.
    const { engine, pool } = await loadEngines(flags, warn).catch((err: unknown) => {
      progress.stop();
      release();
      throw err;
    });
    let result;
    try {
      const createEngine = (): Promise<Engine> => Engine.create({ ...engineOptions(flags), warn });
      const labels = labelsFile ? groundTruth(labelsFile, engine.classNames, sourceFiles(source)) : undefined;
      result = await runAudit(source, a, engine, (p) => progress.update(auditProgressUpdate(p)), { signal: controller.signal, warn, info, createEngine, ...(labels ? { labels } : {}), ...(pool ? { perturbed: pool } : {}) });
    } finally {
      progress.stop();
      release();
      engine.dispose();
      pool?.dispose();
    }
    if (flags.report) await writeAuditReport(flags.report, result.data);
    if (flags.json) await writeAuditJson(flags.json, result.data);
    if (!flags.quiet) process.stdout.write(terminalSafeLines(summaryText(result.data, [flags.report, flags.json].filter((f): f is string => !!f))));
    if (!flags.quiet && result.data.sanity) process.stdout.write(terminalSafeLines(sanityText(result.data)));
    if (result.interrupted) {
      process.stderr.write(`saliencam: interrupted; the report covers the ${result.data.framesSampled} sampled frames audited\n`);
      process.exitCode = EXIT.interrupted;
    } else if (!result.complete) {
      process.stderr.write(`saliencam: the source ended early (${terminalSafe(result.decodeError ?? 'incomplete')}); the report covers what decoded\n`);
      process.exitCode = EXIT.partial;
    }
  });
}

/** The audit's engine and, unless --workers 0, its pool; neither is left running when the other fails. */
async function loadEngines(flags: Flags, warn: (msg: string) => void): Promise<{ engine: Engine; pool: WorkerPoolExplainer | undefined }> {
  // The backend is settled first: two `auto` set-ups racing each other fall back to cpu.
  await initBackend(flags.backend, warn);
  const [made, pooled] = await Promise.allSettled([Engine.create({ ...engineOptions(flags), warn }), createInputPool({ ...engineOptions(flags), warn })]);
  if (made.status === 'fulfilled' && pooled.status === 'fulfilled') return { engine: made.value, pool: pooled.value };
  if (made.status === 'fulfilled') made.value.dispose();
  if (pooled.status === 'fulfilled') pooled.value?.dispose();
  throw made.status === 'rejected' ? made.reason : (pooled as PromiseRejectedResult).reason;
}

/** The overall table in plain text: what the report's summary shows, for the terminal. */
export function summaryText(data: AuditReportData, written: string[]): string {
  const { overall } = aggregate(data.detections, data.temporal, data.methods);
  const f = (s: Spread, digits = 3): string => (s.n > 0 && Number.isFinite(s.mean) ? s.mean.toFixed(digits) : '—');
  const cols = ['method', 'dets', 'deletion↓', 'insertion↑', 'in-box↑', 'pointing↑', 'max-sens↓', 'temporal↓', 'ms/map'];
  const rows = overall.map((r) => [r.method, String(r.detections), f(r.deletionAuc), f(r.insertionAuc), f(r.energyInBoxes), f(r.pointingHitRate, 2), f(r.maxSensitivity), f(r.temporalChange), f(r.msPerMap, 0)]);
  const width = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [
    `${data.source}: ${data.framesSampled ?? 0} sampled frames, ${data.detections.length} detections, ${data.model} on ${data.backend}`,
    line(cols),
    ...rows.map(line),
    ...(data.labels ? [labelsLine(data.labels)] : []),
    ...written.map((w) => `wrote ${w}`),
    '',
  ].join('\n');
}

/** `--labels` in one line: recall per class and the failures found. */
function labelsLine(l: NonNullable<AuditReportData['labels']>): string {
  const recall = l.perClass.filter((r) => r.labelled > 0).map((r) => `${r.label} recall ${r.hits}/${r.labelled}`);
  return `labels (${l.framesLabelled} frames): ${recall.join(', ') || 'no labelled boxes'}; ${l.misses.length} misses, ${l.confusions.length} confusions, ${l.falsePositives.length} false positives`;
}

/** The sanity check's verdicts in plain words. */
export function sanityText(data: AuditReportData): string {
  return `${Object.entries(data.sanity ?? {})
    .map(([m, r]) => `sanity ${m}: similarity ${Number.isFinite(r.similarity) ? r.similarity.toFixed(2) : '—'} with the layers after the CAM layer randomised: ${r.passed ? 'passes (its maps depend on them)' : 'FAILS (its maps do not depend on them)'}`)
    .join('\n')}\n`;
}

/** An audit's progress for the progress helper: sampled frames, detections, and where it is. */
function auditProgressUpdate(p: AuditProgress): ProgressUpdate {
  const where =
    p.frame !== undefined
      ? `at frame ${p.frame}${p.detectionsInFrame ? ` (detection ${p.detectionsDoneInFrame + 1}/${p.detectionsInFrame})` : ''}`
      : undefined;
  const widths = Object.entries(p.intervalWidths ?? {});
  return {
    done: p.framesDone,
    total: p.framesTotal,
    value: p.value,
    details: [
      `${p.detectionsDone} detections`,
      ...(p.budget ? [`${p.budget.spentS.toFixed(0)}/${p.budget.totalS} s of the budget`] : []),
      // How far the numbers are from settled: the width of each method's deletion AUC interval.
      ...(widths.length ? [`95% CI width (deletion) ${widths.map(([m, w]) => `${m} ${w.toFixed(2)}`).join(', ')}`] : []),
      ...(where ? [where] : []),
    ],
  };
}
