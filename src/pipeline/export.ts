// decode → explain → smooth → render → the outputs (the format's, and the sidecar), as one RxJS pipeline with
// end-to-end backpressure. The outputs come from the output table (src/output/index.ts); this file knows none.
import { concatMap, lastValueFrom, defaultIfEmpty } from 'rxjs';
import { rm } from 'node:fs/promises';
import { UserError, EXIT } from '../errors.js';
import type { ExplainOptions, Explainer, Frame, RenderOptions } from '../types.js';
import { openDecoder, type Decoder, type SourceInfo } from '../video/index.js';
import { outputFormat, outputFormatOf, sidecarOutput, type FrameOutput, type OutputContext, type OutputFormat, type OutputWriter } from '../output/index.js';
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
  /** A row of the output table (default: chosen by the output's name, see `outputFormatOf`). */
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
  const targets: { path: string; writer: OutputWriter }[] = [
    { path: o.output, writer: outputFormat(outputFormatOf(o.output, o.format)) },
    ...(o.sidecar ? [{ path: o.sidecar, writer: sidecarOutput }] : []),
  ];
  // Fail on an unwritable output before the slow part.
  for (const t of targets) await t.writer.check(t.path);
  const decoder = o.frames ?? (await openDecoder(o.input, { start: o.start, duration: o.duration, live: o.live }));
  const info = decoder.info;
  o.onStart?.(info);
  const context: OutputContext = {
    info: o.startTimeNs !== undefined ? { ...info, logStartNs: o.startTimeNs } : info,
    classNames: explainer.classNames,
    ...(o.audio && info.hasAudio ? { audioFrom: { input: o.input, start: o.start, duration: o.duration } } : {}),
  };
  const outputs: FrameOutput[] = [];
  try {
    for (const t of targets) outputs.push(await t.writer.open(t.path, context));
  } catch (err) {
    await Promise.allSettled([...outputs.map((out) => out.abort()), decoder.close()]);
    throw err;
  }
  const abortAll = (): Promise<unknown> => Promise.allSettled(outputs.map((out) => out.abort()));
  const source = pullSource(decoder, PIPELINE_WINDOW);
  let interrupted = false;
  const onStop = () => {
    interrupted = true;
    source.stop();
  };
  if (o.stop?.aborted) onStop();
  o.stop?.addEventListener('abort', onStop, { once: true });

  let written = 0;
  try {
    await lastValueFrom(
      source.items$.pipe(
        explainFrames(explainer, { overrides: o.overrides, every: o.every, source: o.input }),
        smoothMaps(o.smooth ?? 0),
        renderFrames(o.render),
        concatMap(async (r) => {
          for (const out of outputs) await out.write(r);
          written++;
          source.ack();
          o.onFrame?.(written, info, { inFlight: source.inFlight, decoderBuffered: decoder.buffered });
        }),
        defaultIfEmpty(undefined),
      ),
    );
  } catch (err) {
    await Promise.allSettled([abortAll(), decoder.close()]);
    throw err;
  } finally {
    o.stop?.removeEventListener('abort', onStop);
  }
  await decoder.close();
  const result = await decoder.done;
  if (written === 0) {
    await abortAll();
    throw new UserError(`no frame of ${o.input} could be decoded${result.error ? `: ${result.error}` : ''}`);
  }
  // All outputs or none: a sidecar that cannot be completed (disk full) takes the finished video with it,
  // so a failed run never leaves a half set that looks whole.
  const paths: string[] = [];
  try {
    for (const out of outputs) paths.push((await out.finish()).path);
  } catch (err) {
    // rm, not unlink: a FiftyOne output is a folder.
    await Promise.allSettled([abortAll(), ...paths.map((p) => rm(p, { recursive: true, force: true }))]);
    throw err;
  }
  const truncated = !result.complete && !interrupted;
  return {
    frames: written,
    path: paths[0]!,
    ...(paths[1] !== undefined ? { sidecar: paths[1] } : {}),
    complete: result.complete,
    interrupted,
    ...(truncated ? { warning: `input ended early after ${written} frames${result.error ? ` (${result.error})` : ''}` } : {}),
    elapsedMs: performance.now() - t0,
    exitCode: interrupted ? EXIT.interrupted : truncated ? EXIT.partial : EXIT.ok,
  };
}
