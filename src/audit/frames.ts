// Which frames an audit visits, and in what order. In drive order by default (every N-th decoded frame);
// with a time budget in a spread order instead, so that whatever prefix the budget allows covers the whole
// drive: candidate k of K is visited in bit-reversed order (0, K/2, K/4, 3K/4, ...), each decoded by seeking.
import type { Frame } from '../types.js';
import { openDecoder, type SourceInfo } from '../video/index.js';

export interface SampledFrame {
  frame: Frame;
  /** Position among the candidate frames (every N-th frame of the range), 0-based: adjacent = consecutive. */
  ordinal: number;
}

export interface FrameSampler {
  frames: AsyncIterable<SampledFrame>;
  /** Candidate frames, when the source says how long it is. */
  candidates?: number;
  /** Stops decoding; resolves with how the source ended. */
  close(): Promise<{ complete: boolean; error?: string }>;
}

export interface SampleOptions {
  every: number;
  start?: number;
  duration?: number;
  info?: SourceInfo;
}

/** Every N-th decoded frame, in drive order. */
export async function driveOrder(source: string, o: SampleOptions): Promise<FrameSampler & { info: SourceInfo }> {
  const decoder = await openDecoder(source, {
    ...(o.info ? { info: o.info } : {}),
    ...(o.start !== undefined ? { start: o.start } : {}),
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
  });
  async function* frames(): AsyncGenerator<SampledFrame> {
    let n = 0;
    for await (const frame of decoder) {
      if (n % o.every === 0) yield { frame, ordinal: n / o.every };
      n++;
    }
  }
  return {
    info: decoder.info,
    frames: frames(),
    async close() {
      await decoder.close();
      return decoder.done;
    },
  };
}

/** 0..count-1 in bit-reversed (van der Corput) order: every prefix is spread evenly over the range. */
export function spreadOrder(count: number): number[] {
  const out: number[] = [];
  let bits = 0;
  while (1 << bits < count) bits++;
  for (let i = 0; i < 1 << bits; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
    if (r < count) out.push(r);
  }
  return out;
}

/** The candidate frames in spread order, each decoded on its own by seeking (files whose length is known). */
export function spreadFrames(source: string, info: SourceInfo, o: SampleOptions): FrameSampler | undefined {
  const fps = info.fps;
  const total = info.frameCount ?? (info.duration && fps > 0 ? Math.round(info.duration * fps) : undefined);
  if (info.kind !== 'file' || !(fps > 0) || total === undefined) return undefined;
  const first = o.start ? Math.round(o.start * fps) : 0;
  const last = Math.min(total, o.duration !== undefined ? first + Math.max(1, Math.round(o.duration * fps)) : total);
  const candidates = Math.max(0, Math.ceil((last - first) / o.every));
  let stop = false;
  let error: string | undefined;
  async function* frames(): AsyncGenerator<SampledFrame> {
    for (const ordinal of spreadOrder(candidates)) {
      if (stop) return;
      const index = first + ordinal * o.every;
      // A quarter frame early, so the seek lands on this frame and not the next.
      const decoder = await openDecoder(source, { info, start: Math.max(0, (index - 0.25) / fps), duration: 1.5 / fps });
      let got: Frame | undefined;
      try {
        for await (const frame of decoder) {
          got = frame;
          break;
        }
      } finally {
        await decoder.close();
      }
      const done = await decoder.done;
      if (!got) {
        error ??= done.error ?? `frame ${index} did not decode`;
        continue;
      }
      yield { frame: { ...got, index, time: index / fps }, ordinal };
    }
  }
  return {
    candidates,
    frames: frames(),
    async close() {
      stop = true;
      return { complete: error === undefined, ...(error ? { error } : {}) };
    },
  };
}
