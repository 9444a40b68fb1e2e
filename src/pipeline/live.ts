// The export pipeline with a different source and sink, for the dashboard: a recorded source that can be
// paused, stepped, sought and looped (or a live one that always hands over its newest frame), the same
// explainFrames → smoothMaps → renderFrames operators, and a sink that encodes each frame as an image for the
// WebSocket broadcast. Frames are pulled with the same credit window as `export`, so a pool of workers
// explains several at once; while paused nothing is pulled and ffmpeg blocks on its full pipe.
//
// Each stretch of decoding is one subscription (a "run"). Seeking ends the run at once: its decoder closes,
// frames waiting for a worker are cancelled (a worker busy on one is replaced), and nothing of it reaches the
// sink afterwards; the new run starts at the frame asked for. Pausing a recorded file ends the run the same way
// (a live source's frames in flight drain instead).
import { concatMap, from, type Observable, type Subscription } from 'rxjs';
import { oneLine, UserError } from '../errors.js';
import { encodeImage } from '../render/index.js';
import type { PipelineSettings, StreamSettings } from '../settings.js';
import type { ExplainedFrame, Explainer, Frame, RenderOptions } from '../types.js';
import type { Decoder, DecodeResult, SourceInfo } from '../video/index.js';
import type { Readable } from 'node:stream';
import { PIPELINE_WINDOW } from './export.js';
import { explainFrames, renderFrames, smoothMaps } from './operators.js';
import { openAtFrame, PullGate } from './live-source.js';
import { pullSource } from './pull.js';

/** Given whole, parsed settings (the session's): the pipeline has no defaults of its own. */
export interface LiveOptions extends PipelineSettings, Omit<StreamSettings, 'maxFps'> {
  input: string;
  info: SourceInfo;
  /** A live source: never sought or looped, stale frames dropped by the decoder. */
  live: boolean;
  explainer: Explainer;
  /** Read once per frame when it is rendered. */
  render: () => RenderOptions;
  /** Name put in each record's `source`. */
  sourceName: string;
  /** Most frames pulled per second while playing; 0 = as fast as the pipeline goes. */
  maxFps: number;
  /** Where `-` reads from (default process.stdin). */
  stdin?: Readable;
}

/** A frame ready for the clients. */
export interface LiveFrame {
  explained: ExplainedFrame;
  image: Buffer;
  /** When it was pulled from the decoder (performance.now()). */
  pulledAt: number;
  /** It was pulled while playing (not a step, seek or re-render). */
  playing: boolean;
  /** Frames the live decoder skipped so far in this run. */
  decoderDropped: number;
}

export interface LiveEvents {
  frame?: (f: LiveFrame) => void;
  /** The transport state changed by itself (end of the source, an error). */
  state?: () => void;
  notice?: (level: 'info' | 'warning' | 'error', message: string) => void;
}

interface Run {
  sub?: Subscription;
  abort: AbortController;
  decoder?: Decoder;
  result?: DecodeResult;
  produced: number;
  ack(): void;
}

export class LivePipeline {
  events: LiveEvents = {};
  private loopOn: boolean;
  private endedNow = false;
  private closed = false;
  private run: Run | undefined;
  /** A re-render of the shown frame (new settings while paused). */
  private still: Run | undefined;
  private stdinUsed = false;
  private shownFrame: Frame | undefined;
  private shownExplained: ExplainedFrame | undefined;
  private readonly pulledAt = new WeakMap<Frame, { at: number; playing: boolean }>();
  private readonly window: number;
  private readonly gate: PullGate;

  constructor(private readonly o: LiveOptions) {
    this.loopOn = o.loop;
    this.gate = new PullGate(o.maxFps);
    // A live source hands over its newest frame: no deeper queue than the explainer can work on.
    this.window = o.live ? Math.max(1, o.explainer.concurrency) : Math.max(PIPELINE_WINDOW, o.explainer.concurrency + 2);
  }

  get playing(): boolean {
    return this.gate.playing;
  }
  get loop(): boolean {
    return this.loopOn;
  }
  get ended(): boolean {
    return this.endedNow;
  }
  /** The frame shown last. */
  get shown(): Frame | undefined {
    return this.shownFrame;
  }

  /** Starts decoding; when paused, only the first frame is shown. */
  start(playing: boolean): void {
    this.gate.playing = playing;
    if (!playing) this.gate.steps = 1;
    this.startRun(0);
  }

  play(): void {
    this.gate.playing = true;
    this.gate.restartRate();
    if (this.endedNow) {
      // From the start again.
      this.endedNow = false;
      this.cancel();
      this.startRun(0);
    }
    this.ensureRun();
    this.gate.wake();
  }

  /**
   * Stops at the frame on screen. A recorded file drops the frames in flight (a step or play carries on after
   * the shown frame, in a new run); a live source lets them drain, its decoder cannot go back.
   */
  pause(): void {
    this.gate.playing = false;
    if (this.seekable) this.cancelRun();
    this.gate.wake();
  }

  /** One frame forward (the pipeline must not have ended). */
  step(): void {
    this.gate.playing = false;
    this.gate.steps = Math.min(this.gate.steps + 1, 10);
    this.ensureRun();
    this.gate.wake();
  }

  /** Shows `frame` next (clamped to the source); frames in flight are dropped. */
  seek(frame: number): void {
    const last = this.lastIndex(frame);
    this.endedNow = false;
    this.cancel();
    this.gate.steps = this.gate.playing ? 0 : 1;
    this.startRun(Math.max(0, Math.min(frame, last)));
  }

  /**
   * The explain settings changed while playing: frames in flight were explained with the old ones. A recorded
   * file drops them and carries on after the frame on screen; a live source lets them drain.
   */
  restart(): void {
    const shown = this.shownFrame;
    if (!this.gate.playing || !this.run || !shown || !this.seekable) return;
    if (shown.index + 1 > this.lastIndex(shown.index + 1)) return; // at the end: what is left drains
    this.cancel();
    this.gate.steps = 0;
    this.startRun(shown.index + 1);
  }

  setLoop(on: boolean): void {
    this.loopOn = on;
  }

  /**
   * The shown frame again with the current settings (paused): explained again when `explain` is set, else
   * only rendered again from its last explanation.
   */
  refresh(explain: boolean): void {
    const frame = this.shownFrame;
    if (!frame || this.closed) return;
    this.cancelStill();
    const run = this.newRun();
    this.still = run;
    const explained$: Observable<ExplainedFrame> =
      explain || !this.shownExplained
        ? from([frame]).pipe(explainFrames(this.o.explainer, { source: this.o.sourceName, signal: run.abort.signal }))
        : from([{ ...this.shownExplained, frame }]);
    this.pulledAt.set(frame, { at: performance.now(), playing: false });
    run.sub = this.sink(explained$, run).subscribe({
      error: (err: unknown) => this.failed(run, err),
      complete: () => {
        if (this.still === run) this.still = undefined;
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelStill();
    const d = this.run?.decoder;
    this.cancel();
    this.gate.wake();
    await d?.close();
  }

  /** The source's last frame index (`fallback` when it does not say). */
  private lastIndex(fallback: number): number {
    const i = this.o.info;
    return i.frameCount !== undefined ? i.frameCount - 1 : i.duration !== undefined ? Math.floor(i.duration * this.fps) - 1 : fallback;
  }

  private get seekable(): boolean {
    return this.o.info.kind === 'file' && !this.o.live;
  }

  private get fps(): number {
    return this.o.info.fps > 0 ? this.o.info.fps : 25;
  }

  private newRun(): Run {
    return { abort: new AbortController(), produced: 0, ack: () => undefined };
  }

  private ensureRun(): void {
    if (this.run || this.closed) return;
    // After an error or the end: carry on after the frame on screen (recorded files), else from the start.
    const next = this.seekable && this.shownFrame ? this.shownFrame.index + 1 : 0;
    this.startRun(next);
  }

  private startRun(at: number): void {
    if (this.closed) return;
    const run = this.newRun();
    this.run = run;
    const source = pullSource(this.frames(run, at), this.window);
    run.ack = () => source.ack();
    const explained$ = source.items$.pipe(
      explainFrames(this.o.explainer, { every: this.o.every, source: this.o.sourceName, signal: run.abort.signal }),
      smoothMaps(this.o.smooth),
    );
    run.sub = this.sink(explained$, run).subscribe({
      error: (err: unknown) => this.failed(run, err),
      complete: () => void this.atEnd(run),
    });
  }

  /** Render, encode, hand to the clients; nothing of a cancelled run gets through. */
  private sink(explained$: Observable<ExplainedFrame>, run: Run): Observable<void> {
    return explained$.pipe(
      renderFrames(this.o.render),
      concatMap(async (r) => {
        const image = await encodeImage(r, this.o.format, this.o.quality);
        if (run.abort.signal.aborted || this.closed) return;
        const frame = r.explained.frame;
        this.shownFrame = frame;
        this.shownExplained = r.explained;
        const pulled = this.pulledAt.get(frame);
        this.events.frame?.({
          explained: r.explained,
          image,
          pulledAt: pulled?.at ?? performance.now(),
          playing: pulled?.playing ?? false,
          decoderDropped: this.run?.decoder?.dropped ?? 0,
        });
        run.ack();
      }),
    );
  }

  /** The decoder's frames from frame `at`, each pulled only when the transport allows it. */
  private async *frames(run: Run, at: number): AsyncGenerator<Frame> {
    // A burst of seeks costs one decoder: a run cancelled before it opens never opens one.
    await new Promise((r) => setImmediate(r));
    if (run.abort.signal.aborted) return;
    if (this.o.info.kind === 'stdin') {
      if (this.stdinUsed) throw new UserError('the input stream (stdin) has ended');
      this.stdinUsed = true;
    }
    const { decoder, shift } = await openAtFrame(this.o, at, this.fps);
    run.decoder = decoder;
    const it = decoder[Symbol.asyncIterator]();
    try {
      while (await this.gate.mayPull(() => run.abort.signal.aborted || this.closed)) {
        const r = await it.next();
        if (r.done || run.abort.signal.aborted) break;
        run.produced++;
        const frame = shift ? { ...r.value, time: r.value.time + shift } : r.value;
        this.pulledAt.set(frame, { at: performance.now(), playing: this.gate.playing });
        yield frame;
      }
    } finally {
      await decoder.close();
      run.result = await decoder.done;
    }
  }

  private async atEnd(run: Run): Promise<void> {
    if (this.run !== run) return;
    this.run = undefined;
    if (this.closed) return;
    const result = run.result;
    if (result && !result.complete && result.error) this.events.notice?.('warning', `the source ended early: ${result.error}`);
    if (this.loopOn && run.produced > 0 && !this.o.live) {
      this.startRun(0);
      return;
    }
    if (this.o.live) this.events.notice?.('info', 'the live source has ended');
    this.gate.playing = false;
    this.gate.steps = 0;
    this.endedNow = true;
    this.events.state?.();
  }

  private failed(run: Run, err: unknown): void {
    if (run.abort.signal.aborted || this.closed) return;
    if (this.still === run) this.still = undefined;
    if (this.run === run) {
      this.run = undefined;
      run.abort.abort();
      void run.decoder?.close();
    }
    this.gate.playing = false;
    this.gate.steps = 0;
    this.events.notice?.('error', oneLine(err));
    this.events.state?.();
  }

  /** Ends the current run and any re-render of the shown frame. */
  private cancel(): void {
    this.cancelStill();
    this.cancelRun();
  }

  /** Ends the current run: its decoder closes and its frames in flight are dropped. */
  private cancelRun(): void {
    const run = this.run;
    this.run = undefined;
    if (!run) return;
    run.abort.abort();
    run.sub?.unsubscribe();
    // Closing the decoder also ends a pull that is waiting on ffmpeg.
    void run.decoder?.close();
    this.gate.wake();
  }

  private cancelStill(): void {
    const s = this.still;
    this.still = undefined;
    s?.abort.abort();
    s?.sub?.unsubscribe();
  }
}
