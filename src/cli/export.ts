// `saliencam export <video> -o out.mp4 [--sidecar out.ndjson]`: an annotated copy of a drive.
import { Command, Option } from 'commander';
import { createExplainer } from '../explain/create.js';
import { UserError } from '../errors.js';
import { runExport } from '../pipeline/export.js';
import { addExplainOptions, addPipelineOptions, addRenderOptions, addWorkerOption, engineOptions, instantNs, numberIn, renderOptions, type ExplainFlags, type RenderFlags } from './options.js';
import { createProgress } from './progress.js';
import { onInterrupt } from './signals.js';
import { addTopicOption, sourceWithTopic } from './topic.js';
import { isRecordingInput } from '../recording/input-name.js';
import { probeSource } from '../video/index.js';
import type { OutputFormat } from '../output/index.js';
import { terminalSafe } from '../terminal-text.js';

interface Flags extends ExplainFlags, RenderFlags {
  output: string;
  format?: OutputFormat;
  topic?: string;
  sidecar?: string;
  start?: number;
  startTime?: bigint;
  duration?: number;
  every: number;
  smooth: number;
  audio?: boolean;
  live?: boolean;
  quiet?: boolean;
}

export function exportCommand(): Command {
  const cmd = new Command('export')
    .description('write an annotated copy of a drive (H.264 mp4, or an MCAP recording, or a FiftyOne/COCO dataset) and a per-frame NDJSON sidecar')
    .argument('<source>', 'video file, .mcap recording, image sequence (dir/*.jpg or frame_%04d.png), - for stdin, or a live URL/device')
    .requiredOption('-o, --output <file.mp4|file.mcap|dir>', 'annotated video, MCAP recording (.mcap), or dataset folder (--format fiftyone) to write')
    .addOption(new Option('--format <f>', 'output format (default: from the output name, .mcap → mcap, else mp4)').choices(['mp4', 'mcap', 'fiftyone']))
    .option('--sidecar <file.ndjson>', 'one JSON record per frame')
    .option('--start <s>', 'start at this many seconds', numberIn('--start', 0, 1e7))
    .option('--start-time <time>', "log time of the source's time 0 in MCAP/FiftyOne output: ISO 8601 (2024-05-01T12:00:00Z) or seconds since 1970 (default: a recording's own clock, else the file's creation_time, else 1970)", instantNs('--start-time'))
    .option('--duration <s>', 'stop after this many seconds', numberIn('--duration', 0.001, 1e7))
    .option('--audio', "copy the input's audio track")
    .option('--live', 'drop stale frames instead of pausing the source (live inputs)')
    .option('-q, --quiet', 'no progress output');
  addTopicOption(cmd);
  addExplainOptions(cmd);
  addRenderOptions(cmd);
  addPipelineOptions(cmd);
  addWorkerOption(cmd);
  return cmd.action(async (source: string, flags: Flags) => {
    const format = flags.format ?? (/\.mcap$/i.test(flags.output) ? 'mcap' : 'mp4');
    if (format === 'mp4' && !/\.(mp4|m4v|mov)$/i.test(flags.output)) throw new UserError(`--output ${flags.output}: the annotated clip is H.264 in mp4; name it .mp4 (or .mcap, or use --format fiftyone with a folder)`);
    if (format === 'mcap' && !/\.mcap$/i.test(flags.output)) throw new UserError(`--output ${flags.output}: an MCAP recording is named .mcap`);
    const input = sourceWithTopic(source, flags.topic);
    // A recording's topic errors (none, several, unsupported) come before the model loads.
    if (isRecordingInput(input)) await probeSource(input);
    const engine = await createExplainer(engineOptions(flags));
    const stop = new AbortController();
    const progress = createProgress('export', { quiet: flags.quiet, rateUnit: 'fps', intervalMs: 2000 });
    const release = onInterrupt(() => {
      process.stderr.write('\nsaliencam: interrupted; finishing the frames in flight (Ctrl-C again to abort)\n');
      stop.abort();
    });
    try {
      const summary = await runExport(engine, {
        input,
        output: flags.output,
        format,
        ...(flags.sidecar ? { sidecar: flags.sidecar } : {}),
        ...(flags.start !== undefined ? { start: flags.start } : {}),
        ...(flags.startTime !== undefined ? { startTimeNs: flags.startTime } : {}),
        ...(flags.duration !== undefined ? { duration: flags.duration } : {}),
        every: flags.every,
        smooth: flags.smooth,
        audio: Boolean(flags.audio),
        live: Boolean(flags.live),
        render: renderOptions(flags),
        stop: stop.signal,
        onFrame: (done, info) => progress.update({ done, total: expectedFrames(info, flags) }),
      });
      progress.stop();
      if (summary.warning) process.stderr.write(`saliencam: warning: ${terminalSafe(summary.warning)}\n`);
      if (!flags.quiet || summary.exitCode !== 0) {
        const what = summary.interrupted ? 'interrupted: wrote' : 'wrote';
        process.stderr.write(terminalSafe(`saliencam: ${what} ${summary.path} (${summary.frames} frames${summary.sidecar ? `, sidecar ${summary.sidecar}` : ''}) in ${(summary.elapsedMs / 1000).toFixed(1)} s`) + '\n');
      }
      process.exitCode = summary.exitCode;
    } finally {
      progress.stop();
      release();
      engine.dispose();
    }
  });
}

function expectedFrames(info: { frameCount?: number; fps: number; duration?: number }, f: Flags): number | undefined {
  if (!info.frameCount) return undefined;
  let n = info.frameCount;
  if (f.start) n -= Math.round(f.start * info.fps);
  if (f.duration) n = Math.min(n, Math.round(f.duration * info.fps));
  return Math.max(n, 0);
}
