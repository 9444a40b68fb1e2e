// Encodes raw RGB24 frames to an H.264 mp4 through ffmpeg's stdin, under a temp name until finish().
import { existsSync } from 'node:fs';
import ffmpeg from 'fluent-ffmpeg';
import { EXIT, oneLine, UserError } from '../errors.js';
import { finishAtomic, openAtomic } from './atomic.js';
import { classifySource } from './source.js';
import { LOG_ARGS, isErrorLevel, parseLogLine, pickErrorLine, type LogLine } from './ffmpeg-log.js';
import { killFfmpeg, startFfmpeg, type FfmpegExit, type FfmpegRun } from './run-ffmpeg.js';

export interface EncodeOptions {
  width: number;
  height: number;
  fps: number;
  /** Copy (re-encode to AAC) the audio of this source over the same range; ignored if it has none. */
  audioFrom?: { input: string; start?: number; duration?: number };
  /** x264 quality, 0 (lossless) … 51; default 23. */
  crf?: number;
  /**
   * x264 speed preset; default 'superfast': the detector needs the CPU more than the encoder does. Measured on
   * test_video.mp4 at crf 23: 35% less encoder CPU than 'veryfast' (15 vs 24 ms per 720p frame), SSIM 0.9629
   * vs 0.9634 (no visible change), files 24% larger; 'ultrafast' costs as much CPU as 'superfast' and loses
   * SSIM (0.949).
   */
  preset?: string;
}

export interface Encoder {
  /** Where the finished file will be (absolute). */
  readonly path: string;
  /** Where it is being written until finish(). */
  readonly tempPath: string;
  /** Frames accepted so far. */
  readonly frames: number;
  /** ffmpeg's process id (diagnostics). */
  readonly pid: number | undefined;
  /**
   * Queues one width*height*3 RGB frame. Resolves once ffmpeg has taken the bytes, so the caller may reuse
   * the buffer and a slow encoder slows the caller down. Rejects if ffmpeg has stopped (finish() may still
   * produce a file if it stopped cleanly).
   */
  write(rgb: Uint8Array): Promise<void>;
  /** Ends the input, waits for ffmpeg, renames the file into place. */
  finish(): Promise<{ frames: number; path: string }>;
  /** Kills ffmpeg and deletes the temp file; idempotent. */
  abort(): Promise<void>;
}

export async function openEncoder(outPath: string, opts: EncodeOptions): Promise<Encoder> {
  const { width, height, fps } = opts;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new UserError(`cannot encode ${outPath}: bad frame size ${width}x${height}`);
  }
  if (!(fps > 0 && Number.isFinite(fps))) throw new UserError(`cannot encode ${outPath}: bad frame rate ${fps}`);
  const audio = opts.audioFrom && opts.audioFrom.input !== '-' ? opts.audioFrom : undefined;
  // A missing audio source would only surface as an ffmpeg failure after all frames were encoded.
  if (audio && classifySource(audio.input).kind === 'file' && !existsSync(audio.input)) {
    throw new UserError(`cannot take audio from ${audio.input}: no such file`);
  }
  // ffmpeg creates the file itself: a fresh name inside a private temp folder, where nothing can be planted.
  const atomic = await openAtomic(outPath, 'path');
  const target = atomic.path;
  const temp = atomic.temp;
  const frameBytes = width * height * 3;

  const command = ffmpeg()
    .input('pipe:0')
    .inputOptions([...LOG_ARGS, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps)]);
  if (audio) {
    command.input(audio.input).inputOptions([
      ...(audio.start ? ['-ss', String(audio.start)] : []),
      ...(audio.duration ? ['-t', String(audio.duration)] : []),
    ]);
  }
  // yuv420p needs even sizes: pad odd ones by a pixel rather than fail. RGB→YUV with the BT.709 matrix and
  // tag it so, as players assume for HD (swscale's default would be BT.601, shifting colours slightly).
  const pad = width % 2 || height % 2 ? 'pad=ceil(iw/2)*2:ceil(ih/2)*2,' : '';
  command
    .outputOptions([
      '-map', '0:v:0',
      // apad + shortest: the audio never ends the file early, and the file never outlasts the video.
      ...(audio ? ['-map', '1:a:0?', '-c:a', 'aac', '-b:a', '128k', '-af', 'apad', '-shortest'] : []),
      '-c:v', 'libx264',
      '-preset', opts.preset ?? 'superfast',
      '-crf', String(opts.crf ?? 23),
      '-vf', `${pad}scale=out_color_matrix=bt709:out_range=tv`,
      '-pix_fmt', 'yuv420p',
      '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709',
      '-movflags', '+faststart',
    ])
    .format('mp4')
    .output(temp);

  const log: LogLine[] = [];
  let signalledExit = false;
  let run: FfmpegRun;
  try {
    run = await startFfmpeg(command, (raw) => {
      const line = parseLogLine(raw);
      // After SIGINT/SIGTERM ffmpeg finalises the file and exits 255 with this line: the file is good.
      if (/^Exiting normally, received signal/.test(line.text)) signalledExit = true;
      if (isErrorLevel(line.level) || line.level === 'warning') {
        log.push(line);
        if (log.length > 20) log.shift();
      }
    });
  } catch (err) {
    await atomic.discard();
    throw new Error(`cannot start ffmpeg for ${outPath}: ${oneLine(err)}`);
  }
  const stdin = run.proc.stdin!;
  let stdinError: Error | undefined;
  // EPIPE when ffmpeg is gone; reported through write()/finish(), never as an unhandled 'error'.
  stdin.on('error', (err) => {
    stdinError ??= err;
  });

  let frames = 0;
  let state: 'open' | 'finishing' | 'finished' | 'aborted' = 'open';
  let result: { frames: number; path: string } | undefined;

  const why = (exit?: FfmpegExit): string => {
    const signal = exit ? exit.signal : run.proc.signalCode;
    const code = exit ? exit.code : run.proc.exitCode;
    if (signalledExit) return `ffmpeg stopped on a signal (${code === 0 ? 'exit 0' : `exit ${code}`})`;
    // A kill explains itself better than whatever ffmpeg last logged.
    if (signal) return `killed by ${signal}`;
    return pickErrorLine(log) ?? (code ? `exited with code ${code}` : stdinError?.message ?? 'its input closed');
  };

  const cleanExit = (exit: FfmpegExit): boolean => exit.code === 0 || (signalledExit && exit.code === 255);

  /**
   * What the user is told when ffmpeg stopped before the file was complete. A full disk or a file size limit
   * (ENOSPC/EFBIG in its log, or SIGXFSZ) is theirs to fix: exit 2. Anything else (killed, crashed) happened
   * under us: exit 4. `removed`: the temp file is gone, so nothing is left at the output path.
   */
  const stoppedError = (exit: FfmpegExit | undefined, removed: boolean): UserError => {
    const signal = exit ? exit.signal : run.proc.signalCode;
    const line = why(exit);
    const nothing = removed ? '; nothing was written' : '';
    if (signal === 'SIGXFSZ' || /No space left|File too large|Disk quota/i.test(line)) {
      return new UserError(`cannot write ${outPath}: disk full or file too large (${signal === 'SIGXFSZ' ? 'file size limit exceeded' : line})${nothing}`);
    }
    if (/Permission denied|Read-only file system/i.test(line)) return new UserError(`cannot write ${outPath}: ${line}`);
    return new UserError(`the encoder (ffmpeg) for ${outPath} stopped after ${frames} frame${frames === 1 ? '' : 's'}: ${line}${nothing}`, EXIT.outputFailed);
  };

  /**
   * A write failed because ffmpeg is gone: wait (briefly) for its exit status, which says why. A clean exit
   * (SIGINT/SIGTERM: ffmpeg finalised the file itself) leaves a file finish() can still put in place; after
   * anything else the temp file is debris and is removed at once.
   */
  const writeFailed = async (): Promise<never> => {
    const exit = await Promise.race([run.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref())]);
    if (state === 'aborted') throw new Error(`encoder for ${outPath} was aborted`);
    if (exit && cleanExit(exit)) throw stoppedError(exit, false);
    state = 'aborted';
    stdin.destroy();
    await killFfmpeg(run);
    await atomic.discard();
    throw stoppedError(exit, true);
  };

  return {
    path: target,
    tempPath: temp,
    get frames() {
      return frames;
    },
    get pid() {
      return run.proc.pid;
    },
    write(rgb) {
      if (state !== 'open') return Promise.reject(new Error(`encoder for ${outPath} is ${state}`));
      if (rgb.length !== frameBytes) {
        return Promise.reject(new Error(`frame has ${rgb.length} bytes, expected ${width}x${height}x3 = ${frameBytes}`));
      }
      if (!run.running || stdinError || stdin.destroyed) return writeFailed();
      return new Promise<void>((resolve, reject) => {
        stdin.write(rgb, (err) => {
          if (err) writeFailed().catch(reject);
          else {
            frames++;
            resolve();
          }
        });
      });
    },
    async finish() {
      if (state === 'finished' && result) return result;
      if (state !== 'open') throw new Error(`encoder for ${outPath} is ${state}`);
      state = 'finishing';
      const last = async (): Promise<void> => {
        if (!stdin.destroyed) stdin.end();
        const exit = await run.exited;
        if ((state as string) === 'aborted') throw new Error(`encoder for ${outPath} was aborted`);
        if (frames === 0) throw new UserError(`nothing written to ${outPath}: no frames were encoded`);
        if (!cleanExit(exit)) throw stoppedError(exit, true);
      };
      await finishAtomic(atomic, last, { shown: outPath, aborted: () => void (state = 'aborted') });
      state = 'finished';
      result = { frames, path: target };
      return result;
    },
    async abort() {
      if (state === 'aborted' || state === 'finished') return;
      state = 'aborted';
      stdin.destroy();
      await killFfmpeg(run);
      await atomic.discard();
    },
  };
}
