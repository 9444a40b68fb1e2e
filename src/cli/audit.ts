// `saliencam audit <source>`: how faithful is each saliency method on this drive? Samples frames, explains
// every detection with each method, scores the maps against random maps and writes an HTML report and JSON.
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { aggregate } from '../audit/aggregate.js';
import { DEFAULT_AUDIT_METHODS, IG, parseAuditMethods, type AuditMethod } from '../audit/methods.js';
import { resolveRunOptions, runAudit, type AuditProgress, type AuditRunOptions } from '../audit/run.js';
import type { AuditReportData, PerturbBaseline, Spread } from '../audit/types.js';
import { writeAuditJson, writeAuditReport } from '../audit/write.js';
import { Engine } from '../engine.js';
import { EXIT, UserError } from '../errors.js';
import { checkOutputPath, probeSource } from '../video/index.js';
import { createProgress, type ProgressUpdate } from './progress.js';
import { onInterrupt } from './signals.js';
import { addTopicOption, sourceWithTopic } from './topic.js';
import { addModelOptions, classList, engineOptions, numberIn, type ModelFlags } from './options.js';

interface Flags extends ModelFlags {
  report?: string;
  json?: string;
  every: number;
  start?: number;
  duration?: number;
  maxFrames?: number;
  methods: AuditMethod[];
  steps: number;
  samples: number;
  radius: number;
  baseline: PerturbBaseline;
  randomMaps: number;
  igSteps: number;
  igBaseline: 'blur' | 'black';
  gallery: number;
  classes?: string[];
  minScore: number;
  polycamVariant: 'plus' | 'minus' | 'pm';
  title?: string;
  quiet?: boolean;
  topic?: string;
}

function methodList(value: string): AuditMethod[] {
  try {
    return parseAuditMethods(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function auditCommand(): Command {
  const cmd = new Command('audit')
    .description('score how faithful each saliency method is on a drive: HTML report + JSON')
    .argument('<source>', 'a video file or .mcap recording (or image, image pattern, URL, - for stdin)')
    .option('--report <file>', 'write the self-contained HTML report')
    .option('--json <file>', 'write the numbers as JSON')
    .option('--every <n>', 'audit every N-th frame', numberIn('--every', 1, 1e6, true), 10)
    .option('--start <s>', 'seconds into the source to start at', numberIn('--start', 0, 1e7))
    .option('--duration <s>', 'seconds to audit from the start', numberIn('--duration', 0.001, 1e7))
    .option('--max-frames <n>', 'stop after N sampled frames', numberIn('--max-frames', 1, 1e7, true))
    .option('--methods <list>', `comma-separated: ${DEFAULT_AUDIT_METHODS.join(',')} (default), polycam, ig`, methodList, [...DEFAULT_AUDIT_METHODS])
    .option('--steps <n>', 'deletion/insertion steps (curves have n + 1 points)', numberIn('--steps', 2, 1000, true), 20)
    .option('--samples <n>', 'max-sensitivity: noisy copies per map (0 = skip the metric)', numberIn('--samples', 0, 1000, true), 8)
    .option('--radius <r>', 'max-sensitivity: noise radius as a share of 0-255', numberIn('--radius', 0, 1), 0.02)
    .addOption(new Option('--baseline <b>', 'what deleted pixels become / insertion starts from').choices(['blur', 'mean', 'black']).default('blur'))
    .option('--random-maps <n>', 'random maps per detection for the baseline row', numberIn('--random-maps', 1, 100, true), 3)
    .option('--ig-steps <n>', 'Integrated Gradients path steps (method ig)', numberIn('--ig-steps', 1, 1000, true), 50)
    .addOption(new Option('--ig-baseline <b>', 'Integrated Gradients baseline image').choices(['blur', 'black']).default('blur'))
    .option('--gallery <n>', 'worst-frame thumbnails in the report', numberIn('--gallery', 0, 200, true), 12)
    .option('--classes <list>', 'comma-separated class labels to audit (default: every detected class)', classList)
    .option('--min-score <s>', 'detections below this score are not audited, 0..1', numberIn('--min-score', 0, 1), 0.3)
    .addOption(new Option('--polycam-variant <v>', 'PolyCAM variant (method polycam)').choices(['plus', 'minus', 'pm']).default('plus'))
    .option('--title <text>', 'report title')
    .option('-q, --quiet', 'no progress and no summary; warnings and errors only')
    // A subcommand does not inherit the program's output settings: keep flag errors to one 'saliencam:' line.
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `saliencam: ${s}` : s) });
  addTopicOption(cmd);
  addModelOptions(cmd);
  return cmd.action(async (sourceArg: string, flags: Flags) => {
    const source = sourceWithTopic(sourceArg, flags.topic);
    if (!flags.report && !flags.json) throw new UserError('audit: give --report <file.html> and/or --json <file.json>');
    if (flags.report && flags.json && resolve(flags.report) === resolve(flags.json)) throw new UserError('--report and --json must be different files');
    const options: Partial<AuditRunOptions> & Pick<AuditRunOptions, 'methods'> = {
      methods: flags.methods,
      every: flags.every,
      ...(flags.start !== undefined ? { start: flags.start } : {}),
      ...(flags.duration !== undefined ? { duration: flags.duration } : {}),
      ...(flags.maxFrames !== undefined ? { maxFrames: flags.maxFrames } : {}),
      classes: flags.classes ?? [],
      minScore: flags.minScore,
      polycamVariant: flags.polycamVariant,
      sensitivity: flags.samples > 0,
      igSteps: flags.igSteps,
      igBaseline: flags.igBaseline,
      gallerySize: flags.gallery,
      ...(flags.title ? { title: flags.title } : {}),
      settings: {
        steps: flags.steps,
        deletionBaseline: flags.baseline,
        insertionBaseline: flags.baseline,
        // --samples 0 turns the metric off (settings.extra says so); the settings keep their checked defaults.
        ...(flags.samples > 0 ? { sensitivitySamples: flags.samples, sensitivityRadius: flags.radius } : {}),
        randomSeeds: Array.from({ length: flags.randomMaps }, (_, i) => i + 1),
      },
    };
    // Everything that can be wrong with the command line fails here, before the model loads.
    resolveRunOptions(options);
    if (flags.report) await checkOutputPath(flags.report);
    if (flags.json) await checkOutputPath(flags.json);
    const info = await probeSource(source);

    const progress = createProgress('audit', { quiet: Boolean(flags.quiet), unit: 'sampled frames', lineEachUnit: true });
    const warn = (msg: string): void => progress.log(msg);
    if (flags.methods.includes('polycam')) warn('polycam runs one forward pass per feature channel (hundreds per frame): expect minutes per frame; --every / --max-frames bound the work');
    if (flags.methods.includes(IG)) warn(`ig runs ${flags.igSteps} gradient passes through the whole model per detection: expect minutes per detection on a CPU backend`);

    const controller = new AbortController();
    const release = onInterrupt(() => {
      warn('interrupted: finishing the current step and writing what was audited (again to quit at once)');
      controller.abort();
    });

    const engine = await Engine.create({ ...engineOptions(flags), warn });
    let result;
    try {
      result = await runAudit(source, options, engine, (p) => progress.update(auditProgressUpdate(p)), { signal: controller.signal, warn, info });
    } finally {
      progress.stop();
      release();
      engine.dispose();
    }
    if (flags.report) await writeAuditReport(flags.report, result.data);
    if (flags.json) await writeAuditJson(flags.json, result.data);
    if (!flags.quiet) process.stdout.write(summaryText(result.data, [flags.report, flags.json].filter((f): f is string => !!f)));
    if (result.interrupted) {
      process.stderr.write(`saliencam: interrupted; the report covers the ${result.data.framesSampled} sampled frames audited\n`);
      process.exitCode = EXIT.interrupted;
    } else if (!result.complete) {
      process.stderr.write(`saliencam: the source ended early (${result.decodeError ?? 'incomplete'}); the report covers what decoded\n`);
      process.exitCode = EXIT.partial;
    }
  });
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
    ...written.map((w) => `wrote ${w}`),
    '',
  ].join('\n');
}

/** An audit's progress for the progress helper: sampled frames, detections, and where it is. */
function auditProgressUpdate(p: AuditProgress): ProgressUpdate {
  const where =
    p.frame !== undefined
      ? `at frame ${p.frame}${p.detectionsInFrame ? ` (detection ${p.detectionsDoneInFrame + 1}/${p.detectionsInFrame})` : ''}`
      : undefined;
  return { done: p.framesDone, total: p.framesTotal, value: p.value, details: [`${p.detectionsDone} detections`, ...(where ? [where] : [])] };
}
