// decode → explain → smooth → render → encode + sidecar, as one RxJS pipeline with end-to-end backpressure.
import { concatMap, lastValueFrom, defaultIfEmpty } from 'rxjs';
import { UserError, EXIT } from '../errors.js';
import type { ShowOptions } from '../render/index.js';
import type { ExplainOptions, Explainer, Frame, RenderedFrame, RenderOptions } from '../types.js';
import { checkOutputPath, openDecoder, openEncoder, openSidecar, type Decoder, type Encoder, type SourceInfo } from '../video/index.js';
import { removeQuietly } from '../video/atomic.js';
import { rm } from 'node:fs/promises';
import { checkOutput, openFrameOutput, outputFormatOf, type FrameOutput, type OutputFormat } from '../output/index.js';
import { explainFrames, renderFrames, smoothMaps } from './operators.js';
import { pullSource } from './pull.js';

/** Frames decoded ahead of the encoder: enough to overlap decode, explain, render and encode. */
export const PIPELINE_WINDOW = 4;

/** What the pipeline reads: the decoder of `input`, or any source of frames with the same shape (the soak's loop). */
export type FrameSource = Pick<Decoder, 'info' | 'buffered' | 'done' | 'close'> & AsyncIterable<Frame>;

export interface ExportOptions {
  input: string;
  /** Frames to use instead of decoding `input` (which then only names the source in the records). */
  frames?: FrameSource;
  output: string;
  /** mp4 (default), mcap (also chosen by a .mcap output name) or fiftyone (a folder). */
  format?: OutputFormat;
  sidecar?: string;
  start?: number;
  /** Log time (ns since 1970) of source time 0 in MCAP/FiftyOne output (default: the source's own clock). */
  startTimeNs?: bigint;
  duration?: number;
  every?: number;
  smooth?: number;
  audio?: boolean;
  live?: boolean;
  overrides?: Partial<ExplainOptions>;
  render: RenderOptions;
  show?: ShowOptions;
  /** Aborting stops reading; frames in flight are finished and a valid file is written. */
  stop?: AbortSignal;
  onStart?(info: SourceInfo): void;
  onFrame?(done: number, info: SourceInfo, queues: QueueStats): void;
}

/** How much is waiting where, sampled after each frame (memory stays flat when these stay bounded). */
export interface QueueStats {
  /** Frames between the decoder and the encoder. */
  inFlight: number;
  /** Frames decoded and waiting to be pulled. */
  decoderBuffered: number;
}

export interface ExportSummary {
  frames: number;
  path: string;
  sidecar?: string;
  /** The whole input decoded (false: it broke off, see `warning`). */
  complete: boolean;
  interrupted: boolean;
  warning?: string;
  elapsedMs: number;
  exitCode: number;
}

export async function runExport(explainer: Explainer, o: ExportOptions): Promise<ExportSummary> {
  const t0 = performance.now();
  // Fail on an unwritable output before the slow part.
  const format = outputFormatOf(o.output, o.format);
  await checkOutput(format, o.output);
  if (o.sidecar) await checkOutputPath(o.sidecar);
  const decoder = o.frames ?? (await openDecoder(o.input, { start: o.start, duration: o.duration, live: o.live }));
  const info = decoder.info;
  o.onStart?.(info);
  const sidecar = o.sidecar ? await openSidecar(o.sidecar) : undefined;
  let encoder: Encoder | undefined;
  const out: FrameOutput | undefined = format === 'mp4' ? undefined : await openFrameOutput(format, o.output, o.startTimeNs !== undefined ? { ...info, logStartNs: o.startTimeNs } : info, explainer.classNames);
  const source = pullSource(decoder, PIPELINE_WINDOW);
  let interrupted = false;
  const onStop = () => {
    interrupted = true;
    source.stop();
  };
  if (o.stop?.aborted) onStop();
  o.stop?.addEventListener('abort', onStop, { once: true });

  async function writeMp4(r: RenderedFrame): Promise<void> {
    // Opened on the first frame: a stdin source only knows its size once ffmpeg has read its header.
    encoder ??= await openEncoder(o.output, {
      width: r.width,
      height: r.height,
      fps: info.fps > 0 ? info.fps : 25,
      ...(o.audio && info.hasAudio ? { audioFrom: { input: o.input, start: o.start, duration: o.duration } } : {}),
    });
    await encoder.write(r.rgb);
  }

  let written = 0;
  try {
    await lastValueFrom(
      source.items$.pipe(
        explainFrames(explainer, { overrides: o.overrides, every: o.every, source: o.input }),
        smoothMaps(o.smooth ?? 0),
        renderFrames(o.render, o.show),
        concatMap(async (r) => {
          if (out) await out.write(r);
          else await writeMp4(r);
          await sidecar?.append(r.explained.record);
          written++;
          source.ack();
          o.onFrame?.(written, info, { inFlight: source.inFlight, decoderBuffered: decoder.buffered });
        }),
        defaultIfEmpty(undefined),
      ),
    );
  } catch (err) {
    await Promise.allSettled([encoder?.abort(), out?.abort(), sidecar?.abort(), decoder.close()]);
    throw err;
  } finally {
    o.stop?.removeEventListener('abort', onStop);
  }
  await decoder.close();
  const result = await decoder.done;
  const sink = out ?? encoder;
  if (!sink || written === 0) {
    await Promise.allSettled([sidecar?.abort(), out?.abort()]);
    throw new UserError(`no frame of ${o.input} could be decoded${result.error ? `: ${result.error}` : ''}`);
  }
  // Both outputs or neither: a sidecar that cannot be completed (disk full) takes the finished video with it,
  // so a failed run never leaves a half set that looks whole.
  let path: string | undefined;
  let side: string | undefined;
  try {
    path = (await sink.finish()).path;
    side = sidecar ? (await sidecar.finish()).path : undefined;
  } catch (err) {
    // rm, not unlink: a FiftyOne output is a folder.
    await Promise.allSettled([sink.abort(), sidecar?.abort(), path !== undefined ? rm(path, { recursive: true, force: true }) : undefined]);
    throw err;
  }
  const truncated = !result.complete && !interrupted;
  return {
    frames: written,
    path,
    ...(side ? { sidecar: side } : {}),
    complete: result.complete,
    interrupted,
    ...(truncated ? { warning: `input ended early after ${written} frames${result.error ? ` (${result.error})` : ''}` } : {}),
    elapsedMs: performance.now() - t0,
    exitCode: interrupted ? EXIT.interrupted : truncated ? EXIT.partial : EXIT.ok,
  };
}
