// What an export writes to: a `FrameOutput` (rendered frames in; complete and in place on finish, or nothing
// left on abort, through video/atomic.ts), opened by an `OutputWriter`. The export formats are rows of the
// output table (index.ts); the sidecar is a writer of the same shape (sidecar.ts).
import type { RenderedFrame } from '../types.js';
import type { SourceInfo } from '../video/probe.js';

export interface FrameOutput {
  /** Adds one rendered frame (its overlay, maps, detections and record). */
  write(frame: RenderedFrame): Promise<void>;
  /** Completes the output and moves it into place; returns the final path. */
  finish(): Promise<{ path: string }>;
  /** Removes everything written so far; idempotent. */
  abort(): Promise<void>;
}

/** What an output is opened with, once the source is open. */
export interface OutputContext {
  /** The source; `logStartNs` is set when the user gave the log time of its time 0. */
  readonly info: SourceInfo;
  /** Every class of the model. */
  readonly classNames: readonly string[];
  /** Copy the audio of this source over the same range (absent: no audio wanted, or the source has none). */
  readonly audioFrom?: { input: string; start?: number; duration?: number };
}

export interface OutputWriter {
  /** Fails fast, before any decoding, when `path` cannot be created (a UserError). */
  check(path: string): Promise<void>;
  open(path: string, ctx: OutputContext): Promise<FrameOutput>;
}

/** A row of the output table: one export format, with the words its flags and help are made of. */
export interface OutputFormatRow extends OutputWriter {
  /** The command's description names it ("an MCAP recording"). */
  readonly title: string;
  /** `--output`'s help names it ("MCAP recording (.mcap)"). */
  readonly help: string;
  /** `--output`'s placeholder ("file.mcap"). */
  readonly placeholder: string;
  /** Output names (lower-case extensions) that choose this format without `--format`; when set, the only names it takes. */
  readonly extensions?: readonly string[];
  /** Why a name outside `extensions` is refused. */
  readonly misnamed?: string;
}

/**
 * Absolute log time (ns) of a frame: from `--start-time` when given, else the recording's own clock for MCAP
 * input, else the file's creation time (`creation_time`), else from 0 (1970).
 */
export function frameLogTime(info: SourceInfo, frameTime: number): bigint {
  return (info.logStartNs ?? info.recording?.startNs ?? info.creationNs ?? 0n) + BigInt(Math.round(frameTime * 1e9));
}
