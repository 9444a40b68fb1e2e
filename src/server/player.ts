// The player: the transport commands (play, pause, step, seek, loop, set) of the one live pipeline every
// client watches (src/pipeline/live.ts), the state and frame messages built from it, and the timeline.
// Commands are checked here (a refused command changes nothing); the pipeline does the work.
import type { Readable } from 'node:stream';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { LivePipeline, type LiveFrame } from '../pipeline/live.js';
import { REALTIME_METHODS } from '../saliency/methods/index.js';
import { DEFAULT_DASHBOARD } from '../settings.js';
import type { CamMethodName, Explainer } from '../types.js';
import { probeSource, type SourceInfo } from '../video/index.js';
import type { OutgoingFrame } from './client.js';
import { explainKey, settingsExplainer } from './live-explainer.js';
import type { Command, ErrorCode, Settings, SourceDescription, StateMessage } from './messages.js';
import { Timeline, timelineEntry } from './timeline.js';

export interface PlayerOptions {
  source: string;
  /** In this thread or a worker pool (src/explain/create.ts). */
  engine: Explainer;
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
  /** Explain every n-th frame, reuse the last maps in between (as `export --every`). */
  every?: number;
  /** Exponential smoothing of maps over time, 0..1 (as `export --smooth`). */
  smooth?: number;
  timelineLimit?: number;
  /** Where `-` reads from (default process.stdin). */
  stdin?: Readable;
}

export const DEFAULT_SETTINGS: Settings = DEFAULT_DASHBOARD;

export type CommandError = { code: ErrorCode; message: string };

export interface PlayerEvents {
  frame?: (frame: OutgoingFrame) => void;
  state?: () => void;
  notice?: (level: 'info' | 'warning' | 'error', message: string) => void;
}

const renderKey = (s: Settings): string => JSON.stringify([s.colormap, s.alpha, s.view, s.boxes, s.normalise ?? 'global']);

const FPS_WINDOW = 10;

export class Player {
  readonly source: SourceDescription;
  readonly timeline: Timeline;
  events: PlayerEvents = {};

  private settings: Settings;
  private closed = false;
  private started = false;
  private seq = 0;
  private readonly pipeline: LivePipeline;
  /** The settings the shown frame was made with. */
  private shownKeys = { explain: '', render: '' };
  private readonly playTimes: number[] = [];
  /** Playback rate over the last frames played; kept while paused so the figure stays meaningful. */
  private playbackFps = 0;
  private readonly live: boolean;

  private constructor(
    private readonly info: SourceInfo,
    private readonly opts: PlayerOptions,
  ) {
    const name = sourceName(opts.source, info.kind);
    this.live = info.live || info.kind === 'stdin';
    this.source = {
      name,
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
    this.timeline = new Timeline(opts.timelineLimit ?? (this.live ? 5000 : 50_000));
    const explainer = settingsExplainer(
      opts.engine,
      {
        get: () => this.snapshot(),
        fellBack: (good, why) => {
          this.settings = { ...this.settings, method: good.method, methodParams: good.methodParams, perDetection: good.perDetection, hiddenClasses: [...good.hiddenClasses], why: good.why, versus: good.versus };
          this.events.notice?.('error', `${why}; back to ${this.settings.method}`);
          this.events.state?.();
        },
      },
      opts.classes ?? [],
    );
    this.pipeline = new LivePipeline({
      input: opts.source,
      info,
      live: this.live,
      explainer,
      render: () => ({ colormap: this.settings.colormap, alpha: this.settings.alpha, view: this.settings.view, boxes: this.settings.boxes, legend: opts.legend ?? true, ...(this.settings.normalise ? { normalise: this.settings.normalise } : {}) }),
      sourceName: name,
      ...(opts.every !== undefined ? { every: opts.every } : {}),
      ...(opts.smooth !== undefined ? { smooth: opts.smooth } : {}),
      format: opts.format ?? 'jpeg',
      quality: opts.quality ?? 80,
      loop: (opts.loop ?? false) && this.source.loopable,
      maxFps: opts.maxFps ?? (this.live ? 0 : info.fps),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
    });
    this.pipeline.events = {
      frame: (f) => this.onFrame(f),
      state: () => this.events.state?.(),
      notice: (level, message) => this.events.notice?.(level, message),
    };
  }

  /** Probes the source (bad input fails here, as a UserError) and checks the settings. */
  static async open(opts: PlayerOptions): Promise<Player> {
    const info = await probeSource(opts.source);
    const player = new Player(info, opts);
    const s = player.settings;
    const bad = player.checkClasses(s.hiddenClasses) ?? player.checkClasses(opts.classes ?? []) ?? player.checkClasses([...s.why.map((r) => r.label), ...(s.versus ? [s.versus] : [])]);
    if (bad) throw new UserError(bad.message);
    if (s.versus !== null && !s.perDetection) throw new UserError('--versus explains detections one by one: add --per-detection');
    return player;
  }

  /** Starts the pipeline (once). Starting paused still shows the first frame, so the page has something to explain. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    // A slow method starts paused: it explains the frame on screen, not a video.
    this.pipeline.start((this.opts.autoplay ?? true) && REALTIME_METHODS.includes(this.settings.method));
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

  /** The methods this model can run (hello lists only these). */
  get methods(): readonly CamMethodName[] {
    return this.opts.engine.methods;
  }

  state(clients: number): StateMessage {
    const shown = this.pipeline.shown;
    return {
      v: 1,
      type: 'state',
      playing: this.pipeline.playing,
      loop: this.pipeline.loop,
      ended: this.pipeline.ended,
      position: shown ? { frame: shown.index, time: round(shown.time, 4) } : null,
      settings: this.snapshot(),
      clients,
    };
  }

  /** Applies a validated command; returns why it cannot be done, if it cannot. */
  command(cmd: Exclude<Command, { type: 'ping' }>): CommandError | undefined {
    if (this.closed) return { code: 'not_available', message: 'the server is shutting down' };
    const err = this.apply(cmd);
    if (!err) this.events.state?.();
    return err;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pipeline.close();
  }

  private apply(cmd: Exclude<Command, { type: 'ping' }>): CommandError | undefined {
    const p = this.pipeline;
    switch (cmd.type) {
      case 'play':
        if (p.ended && this.info.kind === 'stdin') return { code: 'not_available', message: 'the input stream (stdin) has ended' };
        if (!REALTIME_METHODS.includes(this.settings.method)) return { code: 'not_available', message: slowMethod(this.settings.method) };
        this.playTimes.length = 0;
        p.play();
        return undefined;
      case 'pause':
        this.playTimes.length = 0;
        p.pause();
        return undefined;
      case 'step': {
        // Refusals first: a refused command changes nothing.
        if (cmd.direction === -1 && !this.source.seekable) return { code: 'not_available', message: 'stepping back needs a recorded video file' };
        if (cmd.direction !== -1 && p.ended) return { code: 'not_available', message: 'the source has ended; seek or play to start again' };
        this.playTimes.length = 0;
        if (cmd.direction === -1) {
          p.pause();
          p.seek(Math.max(0, (p.shown?.index ?? 0) - 1));
        } else p.step();
        return undefined;
      }
      case 'seek': {
        if (!this.source.seekable) return { code: 'not_available', message: `seeking needs a recorded video file, not a ${this.live ? 'live source' : this.info.kind}` };
        this.playTimes.length = 0;
        p.seek(cmd.frame ?? Math.floor((cmd.time ?? 0) * this.info.fps + 1e-6));
        return undefined;
      }
      case 'loop':
        if (cmd.on && !this.source.loopable) return { code: 'not_available', message: `a ${this.live ? 'live source' : this.info.kind} cannot loop` };
        p.setLoop(cmd.on);
        return undefined;
      case 'set': {
        const { v: _v, type: _t, ...changes } = cmd;
        if (changes.method && !this.methods.includes(changes.method)) return { code: 'not_available', message: `${changes.method} is not available for ${this.model}; use one of ${this.methods.join(', ')}` };
        if (changes.method && p.playing && !REALTIME_METHODS.includes(changes.method)) return { code: 'not_available', message: `${slowMethod(changes.method)}: pause first` };
        if (changes.hiddenClasses) {
          const bad = this.checkClasses(changes.hiddenClasses);
          if (bad) return bad;
          changes.hiddenClasses = [...new Set(changes.hiddenClasses)];
        }
        // Region and contrastive targets name classes too; --versus needs per-detection maps (the merged settings').
        const named = [...(changes.why ?? []).map((r) => r.label), ...(changes.versus ? [changes.versus] : [])];
        const badName = this.checkClasses(named);
        if (badName) return badName;
        if ((changes.versus !== undefined ? changes.versus : this.settings.versus) !== null && !(changes.perDetection ?? this.settings.perDetection)) {
          // Back to per-class maps: the contrast, which explains detections one by one, goes with them.
          if (changes.versus === undefined) changes.versus = null;
          else return { code: 'bad_value', message: 'versus explains detections one by one: set perDetection too' };
        }
        const { methodParams, ...rest } = changes;
        this.settings = { ...this.settings, ...rest, ...(methodParams ? { methodParams: { ...this.settings.methodParams, ...methodParams } } : {}) };
        // Paused: show the effect of the new setting on the frame on screen.
        const s = this.snapshot();
        // Playing: the frames in flight were explained with the old settings; drop them (recorded files).
        if (p.playing && explainKey(s) !== this.shownKeys.explain) p.restart();
        if (!p.playing && (explainKey(s) !== this.shownKeys.explain || renderKey(s) !== this.shownKeys.render)) {
          const again = explainKey(s) !== this.shownKeys.explain;
          // A slow method takes a while (minutes on WASM): say so; a seek, step or other setting cancels it.
          if (again && p.shown && !REALTIME_METHODS.includes(s.method)) this.events.notice?.('info', `explaining frame ${p.shown.index} with ${s.method}; this takes a while (seek, step or pick another method to cancel)`);
          p.refresh(again);
        }
        return undefined;
      }
    }
  }

  private snapshot(): Settings {
    return { ...this.settings, hiddenClasses: [...this.settings.hiddenClasses] };
  }

  private checkClasses(names: readonly string[]): CommandError | undefined {
    const known = new Set(this.classNames);
    const unknown = names.find((n) => !known.has(n));
    return unknown === undefined ? undefined : { code: 'bad_value', message: `unknown class "${unknown.slice(0, 64)}" for model ${this.model}` };
  }

  private onFrame(f: LiveFrame): void {
    const { explained, image } = f;
    const frame = explained.frame;
    // What this frame shows: the explain settings recorded by the explainer are those of its method; the
    // render settings are read when it was rendered, which is now or just before.
    const s = this.snapshot();
    this.shownKeys = { explain: explainKey(s), render: renderKey(s) };
    const time = round(frame.time, 4);
    const record = { ...explained.record, frame: frame.index, time };
    const entry = timelineEntry(record, frame.index, frame.time);
    this.timeline.add(entry);
    const now = performance.now();
    if (f.playing) {
      this.playTimes.push(now);
      if (this.playTimes.length > FPS_WINDOW) this.playTimes.shift();
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
        stats: { fps: round(this.fps(), 2), latencyMs: round(now - f.pulledAt, 1), decoderDropped: f.decoderDropped, backend: this.backend },
        bytes: image.length,
      },
      image,
    });
  }

  private fps(): number {
    const t = this.playTimes;
    if (t.length >= 2) this.playbackFps = ((t.length - 1) * 1000) / (t[t.length - 1]! - t[0]!);
    return this.playbackFps;
  }
}

function slowMethod(method: string): string {
  return `${method} is too slow for playback and explains paused frames only; play with one of ${REALTIME_METHODS.join(', ')}`;
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

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
