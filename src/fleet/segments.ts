// A drive cut into segment jobs on frame boundaries. ffmpeg rounds the timestamps after a seek to whole
// frames, so a segment is decoded from a quarter frame before its first frame (its frames then round to
// whole offsets without ties) for its frame count less half a frame (the cut lies between two frames):
// every frame falls in exactly one segment.
import { UserError } from '../errors.js';
import type { Segment } from './settings.js';

/** More segment jobs than this for one drive is a count no real drive has (a summary that lies). */
export const MAX_SEGMENTS = 100_000;

export interface DriveLength {
  fps: number;
  frameCount?: number;
  duration?: number;
}

export function planSegments(info: DriveLength, seconds: number): Segment[] {
  const total = info.frameCount ?? (info.duration && info.fps > 0 ? Math.round(info.duration * info.fps) : undefined);
  if (!total || !(info.fps > 0)) return [{ index: 0, firstFrame: 0, fps: info.fps > 0 ? info.fps : 0 }];
  const per = Math.max(1, Math.round(seconds * info.fps));
  const count = Math.ceil(total / per);
  if (count > MAX_SEGMENTS) throw new UserError(`the drive claims ${total} frames at ${info.fps} fps: ${count} segments, more than ${MAX_SEGMENTS}`);
  const out: Segment[] = [];
  for (let first = 0, index = 0; first < total; first += per, index++) {
    const last = first + per >= total;
    // The last segment runs to the end: a frame count estimated from the duration may be one short.
    out.push({ index, firstFrame: first, ...(last ? {} : { frames: per }), fps: info.fps });
  }
  return out;
}

/** Seconds to hand the decoder for a segment (start undefined = from the beginning; duration undefined = to the end). */
export function segmentWindow(s: Segment): { start?: number; duration?: number } {
  if (!(s.fps > 0)) return {};
  return {
    ...(s.firstFrame > 0 ? { start: (s.firstFrame - 0.25) / s.fps } : {}),
    ...(s.frames !== undefined ? { duration: (s.frames - 0.5) / s.fps } : {}),
  };
}
