// Decodes a source into RGB24 frames, pulled one at a time by the consumer (see frame-cutter.ts).
import type { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { oneLine, UserError } from '../errors.js';
import type { Frame } from '../types.js';
import { HeaderReader, LOG_ARGS, isErrorLevel, parseLogLine, pickErrorLine, showinfoTime, type LogLine } from './ffmpeg-log.js';
import { FrameCutter } from './frame-cutter.js';
import { probeSource, type SourceInfo } from './probe.js';
import { startFfmpeg, type FfmpegExit, type FfmpegRun } from './run-ffmpeg.js';
import { classifySource } from './source.js';

export interface DecodeOptions {
  /** Seconds from the start of the source (files only). */
  start?: number;
  /** Seconds to decode from `start`. */
  duration?: number;
  /** Drop stale frames instead of pausing ffmpeg (default: the source's own `live`). */
  live?: boolean;
  /** A probe result to reuse; probed when absent. */
  info?: SourceInfo;
  /** Where `-` reads from (default process.stdin). */
  stdin?: Readable;
  /** Whole frames decoded ahead of the consumer (default 2). */
  maxQueued?: number;
}

export interface DecodeResult {
  /** Frames handed to the consumer. */
  frames: number;
  /** The whole requested range decoded without error (false for a truncated file or a failed stream). */
  complete: boolean;
  /** One line from ffmpeg when something went wrong (also set, as a warning, when complete is true). */
  error?: string;
  /** Frames skipped in live mode because the consumer was busy. */
  dropped: number;
  /** The consumer stopped early (close() or leaving the loop). */
  closed: boolean;
}

export interface Decoder extends AsyncIterable<Frame> {
  /** Probe result; for stdin, size/codec/fps are filled in once ffmpeg has started. */
  readonly info: SourceInfo;
  /** Whole frames decoded and waiting for the consumer now. */
  readonly buffered: number;
  /** The most frames that ever waited at once. */
  readonly peakBuffered: number;
  /** Frames dropped so far (live mode). */
  readonly dropped: number;
  /** ffmpeg's process id (diagnostics). */
  readonly pid: number | undefined;
  /** Resolves once decoding has ended and the consumer has finished or closed; never rejects. */
  readonly done: Promise<DecodeResult>;
  /** Stops ffmpeg and frees everything; idempotent, safe mid-stream. */
  close(): Promise<void>;
}

/**
 * Opens `input` for decoding. Iterate it once with `for await`; leaving the loop early closes it.
 * A file that breaks off part-way yields every frame that decoded, then ends; `done` says complete=false.
 * Iteration throws (UserError) only when not a single frame could be decoded.
 */
export async function openDecoder(input: string, opts: DecodeOptions = {}): Promise<Decoder> {
  const info: SourceInfo = { ...(opts.info ?? (await probeSource(input))) };
  const spec = classifySource(input);
  const live = opts.live ?? info.live;
  const seekable = info.kind === 'file' || info.kind === 'url';
  const start = seekable && opts.start && opts.start > 0 ? opts.start : 0;
  const duration = info.kind !== 'image' && opts.duration && opts.duration > 0 ? opts.duration : undefined;

  const cutter = new FrameCutter({ maxQueued: opts.maxQueued ?? 2, live });
  const header = new HeaderReader();
  const errors: LogLine[] = [];
  // pts_time of each output frame, in order; ptsBase is the seq of times[0].
  const times: number[] = [];
  let ptsBase = 0;
  let stderrDone = false;

  const wake = new Set<() => void>();
  const notify = (): void => {
    for (const fn of [...wake]) fn();
  };
  cutter.onChange(notify);
  const changed = (): Promise<void> =>
    new Promise((resolve) => {
      const fn = (): void => {
        wake.delete(fn);
        resolve();
      };
      wake.add(fn);
    });

  const onLine = (raw: string): void => {
    const line = parseLogLine(raw);
    const t = showinfoTime(line);
    if (t !== undefined) {
      times.push(t);
      notify();
      return;
    }
    if (isErrorLevel(line.level) || line.level === 'warning') {
      errors.push(line);
      if (errors.length > 20) errors.shift();
    }
    if (header.push(line) && header.output) {
      info.width = header.output.width;
      info.height = header.output.height;
      cutter.setFrameSize(info.width * info.height * 3);
    }
    if (info.kind === 'stdin' && header.input.codec && info.codec === 'unknown') {
      info.codec = header.input.codec;
      info.fps = header.input.fps ?? 0;
    }
  };

  const stdinSource = spec.kind === 'stdin' ? (opts.stdin ?? process.stdin) : undefined;
  const command = ffmpeg();
  command.input(stdinSource ?? input);
  command.inputOptions([
    ...LOG_ARGS,
    // ffmpeg reads keyboard commands from its stdin unless told not to; its stdin is ours only for `-`.
    ...(stdinSource ? [] : ['-nostdin']),
    ...(live && info.kind === 'url' ? ['-fflags', 'nobuffer'] : []),
    ...spec.inputOptions,
    ...(start ? ['-ss', String(start)] : []),
  ]);
  command
    .outputOptions([
      '-map', '0:v:0', '-an', '-sn', '-dn',
      // showinfo prints each frame's real pts on stderr (cheap next to decoding); passthrough keeps
      // variable-rate video as it is, one output frame per decoded frame, no duplicates or drops.
      '-vf', 'showinfo',
      '-vsync', 'passthrough',
      '-pix_fmt', 'rgb24',
      ...(duration !== undefined ? ['-t', String(duration)] : []),
    ])
    .format('rawvideo')
    .output(cutter, { end: true });

  let run: FfmpegRun;
  try {
    run = await startFfmpeg(command, onLine);
  } catch (err) {
    cutter.destroy();
    throw new UserError(`${input}: cannot start ffmpeg (${oneLine(err)})`);
  }
  let exit: FfmpegExit | undefined;
  void run.exited.then((e) => {
    exit = e;
    stderrDone = true;
    // No header (odd ffmpeg build, or it printed nothing): fall back to the probed size.
    if (!cutter.frameSize && info.width > 0) cutter.setFrameSize(info.width * info.height * 3);
    notify();
  });

  let delivered = 0;
  let stopped = false;
  let iterating = false;
  let indexOffset: number | undefined;
  let finishIteration: () => void = () => undefined;
  const iterationOver = new Promise<void>((resolve) => {
    finishIteration = resolve;
  });

  const release = (): void => {
    if (stdinSource) {
      stdinSource.unpipe();
      stdinSource.pause();
    }
    if (run.running) run.proc.kill('SIGKILL');
    if (!cutter.destroyed) cutter.destroy();
    notify();
  };

  /** Frame time in seconds, or undefined while its pts line has not arrived yet. */
  const timeOf = (seq: number): number | undefined => {
    while (ptsBase < seq && times.length > 0) {
      times.shift();
      ptsBase++;
    }
    const t = ptsBase === seq ? times[0] : undefined;
    if (t !== undefined && !Number.isNaN(t)) return start + t;
    if (t === undefined && !stderrDone) return undefined;
    return start + (info.fps > 0 ? seq / info.fps : 0);
  };

  async function* frames(): AsyncGenerator<Frame> {
    if (iterating) throw new Error('a Decoder can be iterated only once');
    iterating = true;
    try {
      for (;;) {
        if (stopped) return;
        const raw = cutter.peek();
        if (raw) {
          const time = timeOf(raw.seq);
          if (time === undefined) {
            await changed();
            continue;
          }
          cutter.shift();
          indexOffset ??= start > 0 && info.fps > 0 ? Math.round(time * info.fps) - raw.seq : 0;
          delivered++;
          yield { index: raw.seq + indexOffset, time, width: info.width, height: info.height, rgb: raw.rgb };
          continue;
        }
        if (cutter.ended && stderrDone) break;
        await changed();
      }
      if (delivered === 0 && exit && (exit.code !== 0 || errors.some((e) => isErrorLevel(e.level)))) {
        throw new UserError(`${input}: no frame could be decoded (${pickErrorLine(errors, `ffmpeg exited with code ${exit.code}`)})`);
      }
    } finally {
      // Leaving the loop early (break, throw in the body) is a close.
      if (!(cutter.ended && stderrDone)) stopped = true;
      release();
      finishIteration();
    }
  }

  const done: Promise<DecodeResult> = Promise.all([run.exited, iterationOver]).then(([e]) =>
    summarize(e, { delivered, dropped: cutter.dropped, stopped, live, errors, leftover: cutter.leftoverBytes, expected: expectedFrames() }),
  );

  function expectedFrames(): { count: number; exact: boolean } | undefined {
    if (start || duration !== undefined || live || info.frameCount === undefined) return undefined;
    return { count: info.frameCount, exact: info.frameCountExact !== false };
  }

  const iterable = frames();
  return {
    info,
    get buffered() {
      return cutter.queued;
    },
    get peakBuffered() {
      return cutter.peakQueued;
    },
    get dropped() {
      return cutter.dropped;
    },
    get pid() {
      return run.proc.pid;
    },
    done,
    async close() {
      if (!(cutter.ended && stderrDone)) stopped = true;
      release();
      // A generator that was never started cannot run its finally; settle the iteration here.
      if (!iterating) finishIteration();
      else await iterable.return(undefined);
      await run.exited;
    },
    [Symbol.asyncIterator]() {
      return iterable;
    },
  };
}

interface Tally {
  delivered: number;
  dropped: number;
  stopped: boolean;
  live: boolean;
  errors: LogLine[];
  leftover: number;
  expected: { count: number; exact: boolean } | undefined;
}

/**
 * Decides whether the run was complete. ffmpeg exits 0 on a truncated file, so the exit code alone says
 * little: a file that stops short of its frame count *and* logged errors is incomplete. A small shortfall
 * without errors is normal (edit lists drop a few frames), hence the tolerance.
 */
function summarize(exit: FfmpegExit, t: Tally): DecodeResult {
  const base = { frames: t.delivered, dropped: t.dropped, closed: t.stopped };
  const exitOk = exit.code === 0;
  const hasErrors = t.errors.some((e) => isErrorLevel(e.level));
  // Error-level lines only; a warning is worth showing only to explain an incomplete run.
  const errorLine = pickErrorLine(t.errors.filter((e) => isErrorLevel(e.level)));
  const anyLine = pickErrorLine(t.errors);
  if (t.stopped) return { ...base, complete: false };
  if (!exitOk) {
    // A kill explains itself better than whatever ffmpeg last logged.
    if (exit.signal) return { ...base, complete: false, error: `the decoder (ffmpeg) was killed by ${exit.signal}` };
    return { ...base, complete: false, error: anyLine ?? `ffmpeg exited with code ${exit.code}` };
  }
  let complete = !hasErrors;
  if (!t.live && t.expected) {
    const shortfall = t.expected.count - (t.delivered + t.dropped);
    const tolerance = t.expected.exact
      ? Math.max(2, Math.ceil(t.expected.count * 0.01))
      : Math.max(3, Math.ceil(t.expected.count * 0.05));
    complete = shortfall <= 0 || (!hasErrors && shortfall <= tolerance);
    if (!complete) {
      const got = t.delivered + t.dropped;
      return { ...base, complete, error: anyLine ?? `decoding stopped after ${got} of ${t.expected.count} frames` };
    }
  }
  if (t.live) complete = true; // a live source that ends by itself has ended; errors stay a warning
  if (t.leftover > 0) return { ...base, complete: false, error: anyLine ?? 'the last frame was cut short' };
  if (!complete) return { ...base, complete, error: anyLine ?? 'ffmpeg reported errors' };
  return { ...base, complete, ...(errorLine ? { error: errorLine } : {}) };
}
