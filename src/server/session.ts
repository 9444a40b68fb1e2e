// The player: owns the one pipeline every client watches (decode → explain → render → encode) and the
// transport state (play, pause, step, seek, loop). It works on one frame at a time and pulls the next frame
// only when the previous one has been sent on, so it never runs ahead of its slowest stage; while paused it
// pulls nothing and ffmpeg blocks on its full pipe. Commands only set what to do next; the loop below does
// it, so a burst of seeks costs one reopen, and a command cannot interrupt a frame half-way.
import type { Readable } from 'node:stream';
import { basename } from 'node:path';
import { UserError, oneLine } from '../errors.js';
import { encodeImage, renderFrame } from '../render/index.js';
import type { ExplainedFrame, ExplainOptions, Frame } from '../types.js';
import { openDecoder, probeSource, type Decoder, type SourceInfo } from '../video/index.js';
import type { OutgoingFrame } from './client.js';
import type { Command, ErrorCode, Settings, SourceDescription, StateMessage } from './messages.js';
import { Timeline, timelineEntry } from './timeline.js';

/** What the player needs of the frame engine (src/engine.ts's Engine, adapted by `playerEngine`). */
export interface PlayerEngine {
  readonly backend: string;
  readonly model: string;
  readonly classNames: readonly string[];
  explain(frame: Frame, overrides?: Partial<ExplainOptions>, source?: string): Promise<ExplainedFrame>;
}

export interface PlayerOptions {
  source: string;
  engine: PlayerEngine;
  settings?: Partial<Settings>;
  /** Classes the engine may explain at all (`--classes`); empty = every class. */
  classes?: string[];
  /** Draw the colour-scale legend into frames. */
  legend?: boolean;
  format?: 'jpeg' | 'webp';
  /** Encoder quality 1..100. */
  quality?: number;
  loop?: boolean;
  /** Start playing at once (default true). */
  autoplay?: boolean;
  /** Most frames processed per second: default the source's own rate; 0 = as fast as the pipeline goes. */
  maxFps?: number;
  timelineLimit?: number;
  /** Where `-` reads from (default process.stdin). */
  stdin?: Readable;
}

export const DEFAULT_SETTINGS: Settings = {
  method: 'xgradcam',
  colormap: 'turbo',
  alpha: 0.6,
  perDetection: false,
  hiddenClasses: [],
  view: 'blend',
  boxes: true,
};

export type CommandError = { code: ErrorCode; message: string };

export interface PlayerEvents {
  frame?: (frame: OutgoingFrame) => void;
  state?: () => void;
  notice?: (level: 'info' | 'warning' | 'error', message: string) => void;
}

/** The parts of the settings that need the engine to run again (the rest only re-render). */
const explainKey = (s: Settings): string => JSON.stringify([s.method, s.perDetection, [...s.hiddenClasses].sort()]);
const renderKey = (s: Settings): string => JSON.stringify([s.colormap, s.alpha, s.view, s.boxes]);

const FPS_WINDOW = 10;

export class Player {
  readonly source: SourceDescription;
  readonly timeline: Timeline;
  events: PlayerEvents = {};

  private settings: Settings;
  private playing: boolean;
  private loop: boolean;
  private ended = false;
  private closed = false;
  /** Frame index to seek to. */
  private pendingSeek: number | undefined;
  /** Added to the times of the open decoder's frames (see seekTo). */
  private timeShift = 0;
  private pendingSteps = 0;
  /** Where the next decoder opens (seconds). */
  private nextStart = 0;
  private decoder: Decoder | undefined;
  private iterator: AsyncIterator<Frame> | undefined;
  private decodedThisRun = 0;
  private stdinUsed = false;
  private lastFrame: Frame | undefined;
  private lastExplained: ExplainedFrame | undefined;
  private lastExplainKey = '';
  private lastRenderKey = '';
  /** Settings that last explained a frame without error (restored when a change makes the engine fail). */
  private goodSettings: Settings;
  private seq = 0;
  private readonly advanceTimes: number[] = [];
  private lastAdvanceAt = 0;
  /** Playback rate over the last frames played; kept while paused so the figure stays meaningful. */
  private playbackFps = 0;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private readonly name: string;
  private readonly live: boolean;
  private readonly maxFps: number;

  private constructor(
    private readonly info: SourceInfo,
    private readonly opts: PlayerOptions,
  ) {
    this.name = sourceName(opts.source, info.kind);
    this.live = info.live || info.kind === 'stdin';
    this.source = {
      name: this.name,
      kind: info.kind,
      live: this.live,
      seekable: info.kind === 'file' && !this.live,
      loopable: (info.kind === 'file' || info.kind === 'sequence') && !this.live,
      width: info.width,
      height: info.height,
      fps: info.fps,
      ...(info.duration !== undefined ? { duration: info.duration } : {}),
      ...(info.frameCount !== undefined ? { frameCount: info.frameCount } : {}),
    };
    this.settings = { ...DEFAULT_SETTINGS, ...opts.settings, hiddenClasses: [...(opts.settings?.hiddenClasses ?? [])] };
    this.goodSettings = { ...this.settings };
    this.playing = opts.autoplay ?? true;
    this.loop = (opts.loop ?? false) && this.source.loopable;
    this.maxFps = opts.maxFps ?? (this.live ? 0 : info.fps);
    this.timeline = new Timeline(opts.timelineLimit ?? (this.live ? 5000 : 50_000));
  }

  /** Probes the source (bad input fails here, as a UserError) and checks the settings. */
  static async open(opts: PlayerOptions): Promise<Player> {
    const info = await probeSource(opts.source);
    const player = new Player(info, opts);
    const bad = player.checkClasses(player.settings.hiddenClasses) ?? player.checkClasses(opts.classes ?? []);
    if (bad) throw new UserError(bad.message);
    return player;
  }

  /** Starts the processing loop (once). */
  start(): void {
    // Starting paused still shows the first frame, so the page has something to explain.
    if (!this.loopDone && !this.playing) this.pendingSteps = 1;
    this.loopDone ??= this.run();
  }

  get model(): string {
    return this.opts.engine.model;
  }

  get backend(): string {
    return this.opts.engine.backend;
  }

  get classNames(): readonly string[] {
    return this.opts.engine.classNames;
  }

  state(clients: number): StateMessage {
    return {
      v: 1,
      type: 'state',
      playing: this.playing,
      loop: this.loop,
      ended: this.ended,
      position: this.lastFrame ? { frame: this.lastFrame.index, time: round(this.lastFrame.time, 4) } : null,
      settings: { ...this.settings, hiddenClasses: [...this.settings.hiddenClasses] },
      clients,
    };
  }

  /** Applies a validated command; returns why it cannot be done, if it cannot. */
  command(cmd: Exclude<Command, { type: 'ping' }>): CommandError | undefined {
    if (this.closed) return { code: 'not_available', message: 'the server is shutting down' };
    const err = this.apply(cmd);
    if (!err) {
      this.wake();
      this.events.state?.();
    }
    return err;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    // Closing the decoder ends a pending pull; a frame being explained finishes first.
    await this.closeDecoder();
    await this.loopDone;
  }

  private apply(cmd: Exclude<Command, { type: 'ping' }>): CommandError | undefined {
    switch (cmd.type) {
      case 'play':
        if (this.ended) {
          if (this.info.kind === 'stdin') return { code: 'not_available', message: 'the input stream (stdin) has ended' };
          this.ended = false;
          this.nextStart = 0;
          void this.closeDecoder();
        }
        this.playing = true;
        this.resetFps();
        return undefined;
      case 'pause':
        this.playing = false;
        this.resetFps();
        return undefined;
      case 'step':
        // Refusals first: a refused command changes nothing.
        if (cmd.direction === -1 && !this.source.seekable) return { code: 'not_available', message: 'stepping back needs a recorded video file' };
        if (cmd.direction !== -1 && this.ended) return { code: 'not_available', message: 'the source has ended; seek or play to start again' };
        this.playing = false;
        this.resetFps();
        if (cmd.direction === -1) this.requestSeekFrame(Math.max(0, (this.lastFrame?.index ?? 0) - 1));
        else this.pendingSteps = Math.min(this.pendingSteps + 1, 10);
        return undefined;
      case 'seek': {
        if (!this.source.seekable) return { code: 'not_available', message: `seeking needs a recorded video file, not a ${this.live ? 'live source' : this.info.kind}` };
        const frame = cmd.frame ?? Math.floor((cmd.time ?? 0) * this.info.fps + 1e-6);
        this.requestSeekFrame(frame);
        return undefined;
      }
      case 'loop':
        if (cmd.on && !this.source.loopable) return { code: 'not_available', message: `a ${this.live ? 'live source' : this.info.kind} cannot loop` };
        this.loop = cmd.on;
        return undefined;
      case 'set': {
        const { v: _v, type: _t, ...changes } = cmd;
        if (changes.hiddenClasses) {
          const bad = this.checkClasses(changes.hiddenClasses);
          if (bad) return bad;
          changes.hiddenClasses = [...new Set(changes.hiddenClasses)];
        }
        this.settings = { ...this.settings, ...changes };
        return undefined;
      }
    }
  }

  private checkClasses(names: readonly string[]): CommandError | undefined {
    const known = new Set(this.classNames);
    const unknown = names.find((n) => !known.has(n));
    return unknown === undefined ? undefined : { code: 'bad_value', message: `unknown class "${unknown.slice(0, 64)}" for model ${this.model}` };
  }

  private requestSeekFrame(frame: number): void {
    const fps = this.info.fps > 0 ? this.info.fps : 25;
    const last = this.info.frameCount !== undefined ? this.info.frameCount - 1 : this.info.duration !== undefined ? Math.floor(this.info.duration * fps) - 1 : frame;
    this.pendingSeek = Math.max(0, Math.min(frame, last));
    this.ended = false;
  }

  private resetFps(): void {
    this.advanceTimes.length = 0;
  }

  private wake(): void {
    const fn = this.wakeUp;
    this.wakeUp = undefined;
    fn?.();
  }

  /** Resolves on the next command (or close), or after `ms` when given. */
  private waitForWake(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms !== undefined ? setTimeout(() => done(), ms) : undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
    });
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        if (this.pendingSeek !== undefined) {
          const at = this.pendingSeek;
          this.pendingSeek = undefined;
          await this.seekTo(at);
        } else if (!this.playing && this.lastFrame && this.settingsChanged()) {
          // Paused: show the effect of a new setting on the frame on screen.
          await this.process(this.lastFrame, performance.now(), false);
        } else if (this.playing || this.pendingSteps > 0) {
          await this.advance();
        } else {
          await this.waitForWake();
        }
      } catch (err) {
        if (this.closed) break;
        this.playing = false;
        this.pendingSteps = 0;
        await this.closeDecoder();
        this.events.notice?.('error', oneLine(err));
        this.events.state?.();
      }
    }
    await this.closeDecoder();
  }

  private settingsChanged(): boolean {
    return explainKey(this.settings) !== this.lastExplainKey || renderKey(this.settings) !== this.lastRenderKey;
  }

  private async advance(): Promise<void> {
    if (this.playing && this.maxFps > 0 && this.lastAdvanceAt > 0) {
      const wait = this.lastAdvanceAt + 1000 / this.maxFps - performance.now();
      if (wait > 1) {
        await this.waitForWake(wait);
        return; // re-decide: a command may have arrived
      }
    }
    const stepping = !this.playing;
    const frame = await this.pull();
    if (stepping) this.pendingSteps = Math.max(0, this.pendingSteps - 1);
    if (this.closed) return;
    if (!frame) {
      await this.atEnd();
      return;
    }
    this.lastAdvanceAt = performance.now();
    await this.process(frame, this.lastAdvanceAt, this.playing);
  }

  private async seekTo(target: number): Promise<void> {
    this.resetFps();
    const fps = this.info.fps > 0 ? this.info.fps : 25;
    // A quarter frame early: ffmpeg starts at the first frame at or after the time, so this lands on `target`
    // whatever the rounding of its timestamp. The decoder reports the first frame's time as `start` itself
    // (its pts count from the seek point), so the quarter frame is added back to keep times on the grid.
    const start = target > 0 ? (target - 0.25) / fps : 0;
    await this.openAt(start);
    this.timeShift = start > 0 ? target / fps - start : 0;
    const frame = await this.pull();
    if (this.closed) return;
    if (!frame) {
      await this.atEnd();
      return;
    }
    this.lastAdvanceAt = performance.now();
    await this.process(frame, this.lastAdvanceAt, false);
  }

  private async openAt(start: number): Promise<void> {
    await this.closeDecoder();
    if (this.info.kind === 'stdin') {
      if (this.stdinUsed) throw new UserError('the input stream (stdin) has ended');
      this.stdinUsed = true;
    }
    this.timeShift = 0;
    const decoder = await openDecoder(this.opts.source, {
      info: this.info,
      live: this.live,
      ...(start > 0 ? { start } : {}),
      ...(this.opts.stdin ? { stdin: this.opts.stdin } : {}),
    });
    if (this.closed) {
      await decoder.close();
      return;
    }
    this.decoder = decoder;
    this.iterator = decoder[Symbol.asyncIterator]();
    this.decodedThisRun = 0;
  }

  private async closeDecoder(): Promise<void> {
    const d = this.decoder;
    this.decoder = undefined;
    this.iterator = undefined;
    if (d) await d.close();
  }

  /** The next frame of the open decoder (opened at `nextStart` when none is), or undefined at its end. */
  private async pull(): Promise<Frame | undefined> {
    if (!this.iterator) await this.openAt(this.nextStart);
    const it = this.iterator;
    if (!it) return undefined;
    const r = await it.next();
    if (r.done) return undefined;
    this.decodedThisRun++;
    return this.timeShift ? { ...r.value, time: r.value.time + this.timeShift } : r.value;
  }

  private async atEnd(): Promise<void> {
    const d = this.decoder;
    const produced = this.decodedThisRun;
    await this.closeDecoder();
    if (this.closed) return;
    const result = d ? await d.done : undefined;
    if (result && !result.complete && result.error) this.events.notice?.('warning', `the source ended early: ${result.error}`);
    this.nextStart = 0;
    if (this.loop && produced > 0) return; // the next pull reopens from the start
    if (this.live) this.events.notice?.('info', 'the live source has ended');
    this.playing = false;
    this.pendingSteps = 0;
    this.ended = true;
    this.resetFps();
    this.events.state?.();
  }

  private async process(frame: Frame, pulledAt: number, playing: boolean): Promise<void> {
    let s = { ...this.settings, hiddenClasses: [...this.settings.hiddenClasses] };
    let explained: ExplainedFrame;
    const sameExplain = frame === this.lastFrame && this.lastExplained && explainKey(s) === this.lastExplainKey;
    if (sameExplain) {
      explained = this.lastExplained!;
    } else {
      try {
        explained = await this.explain(frame, s);
      } catch (err) {
        // A setting the engine cannot do (e.g. a method this model has no layers for): go back to the
        // last settings that worked, tell the clients, and carry on.
        if (!(err instanceof UserError) || explainKey(s) === explainKey(this.goodSettings)) throw err;
        this.settings = { ...this.settings, method: this.goodSettings.method, perDetection: this.goodSettings.perDetection, hiddenClasses: [...this.goodSettings.hiddenClasses] };
        this.events.notice?.('error', `${oneLine(err)}; back to ${this.settings.method}`);
        this.events.state?.();
        s = { ...this.settings, hiddenClasses: [...this.settings.hiddenClasses] };
        explained = await this.explain(frame, s);
      }
      this.goodSettings = { ...s };
    }
    const rendered = await renderFrame(explained, { colormap: s.colormap, alpha: s.alpha, view: s.view, boxes: s.boxes, legend: this.opts.legend ?? true });
    const image = await encodeImage(rendered, this.opts.format ?? 'jpeg', this.opts.quality ?? 80);
    if (this.closed) return;
    this.lastFrame = frame;
    this.lastExplained = explained;
    this.lastExplainKey = explainKey(s);
    this.lastRenderKey = renderKey(s);

    const time = round(frame.time, 4);
    const record = { ...explained.record, frame: frame.index, time };
    const entry = timelineEntry(record, frame.index, frame.time);
    this.timeline.add(entry);
    const now = performance.now();
    if (playing) {
      this.advanceTimes.push(now);
      if (this.advanceTimes.length > FPS_WINDOW) this.advanceTimes.shift();
    }
    this.events.frame?.({
      meta: {
        v: 1,
        type: 'frame',
        seq: ++this.seq,
        frame: frame.index,
        time,
        sentAt: Date.now(),
        record,
        timeline: entry,
        stats: { fps: round(this.fps(), 2), latencyMs: round(now - pulledAt, 1), decoderDropped: this.decoder?.dropped ?? 0, backend: this.backend },
        bytes: image.length,
      },
      image,
    });
  }

  private fps(): number {
    const t = this.advanceTimes;
    if (t.length >= 2) this.playbackFps = ((t.length - 1) * 1000) / (t[t.length - 1]! - t[0]!);
    return this.playbackFps;
  }

  private async explain(frame: Frame, s: Settings): Promise<ExplainedFrame> {
    const allowed = this.opts.classes?.length ? this.opts.classes : undefined;
    const hidden = new Set(s.hiddenClasses);
    let classes = allowed ?? [];
    if (hidden.size) {
      classes = (allowed ?? this.classNames).filter((c) => !hidden.has(c));
      if (!classes.length) return nothingShown(frame, this, s, this.name);
    }
    return this.opts.engine.explain(frame, { method: s.method, perDetection: s.perDetection, classes }, this.name);
  }
}

/** Every class hidden: the frame as it is, no model run. */
function nothingShown(frame: Frame, p: Player, s: Settings, source: string): ExplainedFrame {
  return {
    frame,
    detections: [],
    maps: [],
    record: {
      source,
      width: frame.width,
      height: frame.height,
      model: p.model,
      backend: p.backend,
      method: s.method,
      detections: [],
      saliency: [],
      timing: { detectMs: 0, saliencyMs: 0, totalMs: 0 },
    },
  };
}

/** What clients are told the source is: a file's name, never its folder; a URL without credentials or query. */
export function sourceName(input: string, kind: SourceInfo['kind']): string {
  if (kind === 'stdin') return 'stdin';
  if (kind === 'url') {
    try {
      const u = new URL(input);
      return `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      return 'stream';
    }
  }
  return basename(input);
}

/** Adapts src/engine.ts's Engine (whose class list lives on its detector). */
export function playerEngine(engine: { backend: string; model: string; detector: { classNames: readonly string[] }; explain: PlayerEngine['explain'] }): PlayerEngine {
  return {
    backend: engine.backend,
    model: engine.model,
    classNames: engine.detector.classNames,
    explain: (frame, overrides, source) => engine.explain(frame, overrides, source),
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
