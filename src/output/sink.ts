// What the export pipeline writes rendered frames to when the output is not an mp4 (MCAP, FiftyOne).
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

export type OutputFormat = 'mp4' | 'mcap' | 'fiftyone';

/**
 * Absolute log time (ns) of a frame: from `--start-time` when given, else the recording's own clock for MCAP
 * input, else the file's creation time (`creation_time`), else from 0 (1970).
 */
export function frameLogTime(info: SourceInfo, frameTime: number): bigint {
  return (info.logStartNs ?? info.recording?.startNs ?? info.creationNs ?? 0n) + BigInt(Math.round(frameTime * 1e9));
}
