// Cuts ffmpeg's raw RGB stdout into whole frames and holds at most a couple of them.
//
// Backpressure: when the queue is full, the cutter keeps the current chunk and does not call its write
// callback. The stream machinery then stops reading ffmpeg's stdout, the OS pipe fills, and ffmpeg blocks
// in write(): a slow consumer slows ffmpeg down instead of growing our memory.
// Live mode never blocks: a new frame replaces the queued one (the consumer always gets the newest).
import { Writable } from 'node:stream';

export interface RawFrame {
  /** 0-based position in ffmpeg's output, counting dropped frames too. */
  seq: number;
  rgb: Buffer;
}

export interface FrameCutterOptions {
  /** Whole frames held before ffmpeg is made to wait (ignored in live mode, which holds one). */
  maxQueued: number;
  live: boolean;
}

interface Pending {
  chunk: Buffer;
  offset: number;
  callback: (err?: Error | null) => void;
}

export class FrameCutter extends Writable {
  private frameBytes = 0;
  private current: Buffer | undefined;
  private filled = 0;
  private pending: Pending | undefined;
  private readonly queue: RawFrame[] = [];
  private readonly watchers = new Set<() => void>();
  private readonly maxQueued: number;
  private readonly live: boolean;

  /** Frames cut so far (delivered, dropped or queued). */
  produced = 0;
  dropped = 0;
  peakQueued = 0;
  /** Bytes at the end of the stream that did not make a whole frame. */
  leftoverBytes = 0;
  /** stdout has ended and everything in it has been cut into frames. */
  ended = false;

  constructor(options: FrameCutterOptions) {
    // emitClose off: fluent-ffmpeg kills ffmpeg 20 ms after its output stream emits 'close', which would
    // race ffmpeg's own clean exit at end of input. autoDestroy off: destroying after 'finish' would
    // discard the frames still queued for the consumer. A small highWaterMark keeps buffered bytes small.
    super({ highWaterMark: 64 * 1024, emitClose: false, autoDestroy: false });
    this.maxQueued = options.live ? 1 : Math.max(1, options.maxQueued);
    this.live = options.live;
  }

  get frameSize(): number {
    return this.frameBytes;
  }

  /** Frame size in bytes, known once ffmpeg has printed its output header. Data waits until then. */
  setFrameSize(bytes: number): void {
    if (this.frameBytes || bytes <= 0) return;
    this.frameBytes = bytes;
    this.pump();
  }

  /** Whole frames waiting for the consumer. */
  get queued(): number {
    return this.queue.length;
  }

  peek(): RawFrame | undefined {
    return this.queue[0];
  }

  shift(): RawFrame | undefined {
    const frame = this.queue.shift();
    if (frame) this.pump();
    return frame;
  }

  /** Calls `fn` on every change (frame queued, end); returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pending = { chunk, offset: 0, callback };
    this.pump();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.leftoverBytes = this.filled;
    this.current = undefined;
    this.filled = 0;
    this.ended = true;
    this.notify();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.queue.length = 0;
    this.current = undefined;
    const pending = this.pending;
    this.pending = undefined;
    pending?.callback();
    this.ended = true;
    this.notify();
    callback(err);
  }

  /** Moves bytes from the pending chunk into frames while there is room; releases the chunk when used up. */
  private pump(): void {
    const p = this.pending;
    if (!p || !this.frameBytes) return;
    while (p.offset < p.chunk.length) {
      if (!this.live && this.queue.length >= this.maxQueued) return; // wait for shift()
      this.current ??= Buffer.allocUnsafe(this.frameBytes);
      const n = p.chunk.copy(this.current, this.filled, p.offset);
      p.offset += n;
      this.filled += n;
      if (this.filled === this.frameBytes) this.completeFrame();
    }
    this.pending = undefined;
    p.callback();
  }

  private completeFrame(): void {
    const frame: RawFrame = { seq: this.produced++, rgb: this.current! };
    this.current = undefined;
    this.filled = 0;
    if (this.live && this.queue.length >= this.maxQueued) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(frame);
    this.peakQueued = Math.max(this.peakQueued, this.queue.length);
    this.notify();
  }

  private notify(): void {
    for (const fn of [...this.watchers]) fn();
  }
}
