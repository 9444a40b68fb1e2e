// A drive cut into segment jobs on frame boundaries. Each segment is decoded from a start time half a frame
// before its first frame, for exactly its frame count, so no frame time lies on a boundary: every frame falls
// in exactly one segment whatever ffmpeg's rounding does.
import type { Segment } from './settings.js';

export interface DriveLength {
  fps: number;
  frameCount?: number;
  duration?: number;
}

export function planSegments(info: DriveLength, seconds: number): Segment[] {
  const total = info.frameCount ?? (info.duration && info.fps > 0 ? Math.round(info.duration * info.fps) : undefined);
  if (!total || !(info.fps > 0)) return [{ index: 0, firstFrame: 0, fps: info.fps > 0 ? info.fps : 0 }];
  const per = Math.max(1, Math.round(seconds * info.fps));
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
  const half = 0.5 / s.fps;
  return {
    ...(s.firstFrame > 0 ? { start: s.firstFrame / s.fps - half } : {}),
    ...(s.frames !== undefined ? { duration: s.frames / s.fps - (s.firstFrame > 0 ? 0 : half) } : {}),
  };
}
