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

/** Absolute log time (ns) of a frame: the recording's own clock for MCAP input, else the time from 0. */
export function frameLogTime(info: SourceInfo, frameTime: number): bigint {
  return (info.recording?.startNs ?? 0n) + BigInt(Math.round(frameTime * 1e9));
}
