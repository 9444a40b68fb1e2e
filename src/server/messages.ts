// The dashboard's WebSocket protocol, as types only (the web app imports this file too, so it must stay free
// of Node and of runtime dependencies). Text messages are JSON objects `{v: 1, type, ...}`; each `frame`
// message is followed immediately by one binary message: the encoded image of that frame.
import type { DashboardSettings, MethodParamInfo, MethodParams } from '../settings.js';
import type { CamMethodName, ColormapName, ExplainRecord } from '../types.js';

export type { DashboardSettings };

/** What the source is (mirrors video/source.ts's SourceKind, which this file cannot import). */
export type SourceKindName = 'file' | 'image' | 'sequence' | 'stdin' | 'url' | 'device';


/** Per frame and class: how many detections, and the mean `energyInBoxes` of its maps (null: no map). */
export interface TimelineEntry {
  frame: number;
  time: number;
  classes: Record<string, { count: number; energy: number | null }>;
}

// ---- client → server -------------------------------------------------------------------------------------

/** What a client may send: inferred from the command schemas (src/server/commands.ts). */
export type { Command } from './commands.js';

// ---- server → client -------------------------------------------------------------------------------------

export interface SourceDescription {
  /** File name only (never the path on the server). */
  name: string;
  kind: SourceKindName;
  live: boolean;
  /** Seek, step back and loop are offered. */
  seekable: boolean;
  /** Looping is offered (recorded videos and image sequences). */
  loopable: boolean;
  width: number;
  height: number;
  fps: number;
  duration?: number;
  frameCount?: number;
}

export interface HelloMessage {
  v: 1;
  type: 'hello';
  server: string;
  source: SourceDescription;
  model: string;
  backend: string;
  methods: readonly CamMethodName[];
  /** The methods playback may use; the others explain a paused frame only. */
  realtimeMethods: readonly CamMethodName[];
  /** Each method's own parameters (a method without any is absent): choices or bounds, and the default. */
  methodParams: Record<string, Record<string, MethodParamInfo>>;
  colormaps: readonly ColormapName[];
  /** Every class the model knows (what `hiddenClasses` may name). */
  classNames: readonly string[];
  imageFormat: 'jpeg' | 'webp';
  limits: { maxMessageBytes: number; frameQueue: number; commandsPerSecond: number };
}

export interface StateMessage {
  v: 1;
  type: 'state';
  playing: boolean;
  loop: boolean;
  /** A recorded source reached its end (play starts again from the beginning). */
  ended: boolean;
  /** Frame shown last, or null before the first. */
  position: { frame: number; time: number } | null;
  settings: DashboardSettings;
  clients: number;
}

export interface FrameStats {
  /** Frames processed per second over the last few frames of playback. */
  fps: number;
  /** Decode → explain → render → encode time of this frame, ms (server side). */
  latencyMs: number;
  /** Frames this client skipped because it was still receiving an older one. */
  dropped: number;
  /** Frames a live source produced while the pipeline was busy (skipped by the decoder). */
  decoderDropped: number;
  backend: string;
}

export interface FrameMessage {
  v: 1;
  type: 'frame';
  /** Counts processed frames; a gap means this client missed some. */
  seq: number;
  frame: number;
  time: number;
  /** Server clock (ms since epoch) when the frame was ready to send. */
  sentAt: number;
  record: ExplainRecord;
  timeline: TimelineEntry;
  stats: FrameStats;
  /** Byte length of the binary message that follows. */
  bytes: number;
}

export interface TimelineMessage {
  v: 1;
  type: 'timeline';
  /** Every frame processed so far (newest value per frame), in time order. */
  entries: TimelineEntry[];
}

export type ErrorCode =
  | 'bad_json'
  | 'bad_message'
  | 'unsupported_version'
  | 'unknown_command'
  | 'binary_not_accepted'
  | 'bad_value'
  | 'not_available'
  | 'rate_limited'
  | 'internal';

export interface ErrorMessage {
  v: 1;
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The command type the error refers to, when it could be read. */
  command?: string;
}

export interface NoticeMessage {
  v: 1;
  type: 'notice';
  level: 'info' | 'warning' | 'error';
  message: string;
}

export interface PongMessage {
  v: 1;
  type: 'pong';
  id?: number | string;
  serverTime: number;
}

export interface StatsMessage {
  v: 1;
  type: 'stats';
  /** How long callbacks waited on the server's event loop (sampled every 10 ms; figures include that period). */
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number; meanMs: number; windowMs: number };
  /** Frames broadcast since the server started, and clients connected now. */
  frames: number;
  clients: number;
}

export type ServerMessage = HelloMessage | StateMessage | FrameMessage | TimelineMessage | ErrorMessage | NoticeMessage | PongMessage | StatsMessage;
