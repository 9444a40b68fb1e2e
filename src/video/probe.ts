// What a source is (size, rate, length, rotation, audio) before any frame is decoded, via ffprobe (or
// ffmpeg itself where there is no ffprobe, as in the offline kit).
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import ffmpeg, { type FfprobeData, type FfprobeStream } from 'fluent-ffmpeg';
import { UserError } from '../errors.js';
import { locateFfmpeg } from './ffmpeg-locate.js';
import { ffmpegProbe } from './probe-ffmpeg.js';
import { classifySource, type SourceKind, type SourceSpec } from './source.js';

export interface SourceInfo {
  input: string;
  /** Display size: after the rotation below has been applied (ffmpeg autorotates when decoding). */
  width: number;
  height: number;
  /** Frames per second (average rate for variable-rate video); 0 for a still image or unknown (stdin). */
  fps: number;
  /** Number of frames; from the container when it says, else estimated (see frameCountExact). */
  frameCount?: number;
  /** Whether frameCount was stored in the file (true) or estimated from duration × fps (false). */
  frameCountExact?: boolean;
  /** Seconds. */
  duration?: number;
  /** Degrees clockwise the frames are turned for display: 0, 90, 180 or 270. */
  rotation: number;
  hasAudio: boolean;
  /** Video codec name as ffmpeg spells it (h264, hevc, mjpeg, png…); 'unknown' for stdin before decoding. */
  codec: string;
  live: boolean;
  kind: SourceKind;
  /** Set for an MCAP recording: the camera topic read and the log time (ns) its frames' times count from. */
  recording?: { path: string; topic: string; schema: string; startNs: bigint };
  /** The file's `creation_time` tag (container, else video stream) as ns since 1970, when it has a valid one. */
  creationNs?: bigint;
  /** Set by `export --start-time`: the log time (ns) frame time 0 is written at, over the two clocks above. */
  logStartNs?: bigint;
}

/**
 * Probes `input`: a video file, a still image, an image sequence (`dir/*.jpg` or `frame_%04d.png`),
 * `-` (stdin), a URL or a /dev/video* device. Bad input gives a UserError with one line.
 * stdin can be read only once, so it is not probed: the result has size 0 and codec 'unknown', and the
 * decoder fills them in from ffmpeg's own header.
 */
export async function probeSource(input: string): Promise<SourceInfo> {
  const spec = classifySource(input);
  if (spec.kind === 'stdin') {
    return { input, width: 0, height: 0, fps: 0, rotation: 0, hasAudio: false, codec: 'unknown', live: false, kind: 'stdin' };
  }
  if (spec.kind === 'file' || spec.kind === 'image') await checkReadableFile(input);
  if (spec.kind === 'device') await stat(input).catch(() => Promise.reject(new UserError(`${input}: no such camera device`)));
  // A sequence is described by its first image; ffmpeg decodes them all alike.
  const target = spec.kind === 'sequence' ? spec.files![0]! : input;
  if (spec.kind === 'sequence') await checkReadableFile(target);
  const data = await runFfprobe(target, spec.kind === 'sequence' ? [] : spec.inputOptions, input, spec.kind === 'file');
  return describe(spec, data);
}

async function checkReadableFile(path: string): Promise<void> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? 'error'})`);
  }
  if (st.isDirectory()) {
    throw new UserError(`${path} is a folder; give a video, an image, or an image pattern such as ${path}/*.jpg`);
  }
  if (!st.isFile()) throw new UserError(`${path}: not a regular file`);
  if (st.size === 0) throw new UserError(`${path} is empty (0 bytes)`);
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new UserError(`${path}: permission denied`);
  }
}

/** `finite`: a file that can be read to its end (ffmpeg then counts its frames when it stands in for ffprobe). */
function runFfprobe(target: string, inputOptions: string[], shownAs: string, finite: boolean): Promise<FfprobeData> {
  const located = locateFfmpeg();
  if (!located.ffprobe) {
    return ffmpegProbe(located.ffmpeg, target, inputOptions, finite).catch((err: unknown) => {
      throw new UserError(`${shownAs}: not a video or image ffmpeg can read (${ffprobeReason(err, target)})`);
    });
  }
  return new Promise((resolve, reject) => {
    // `-v error` keeps stderr to the reason for a failure, which becomes the user's one line.
    ffmpeg.ffprobe(target, ['-hide_banner', '-v', 'error', ...inputOptions], (err: unknown, data: FfprobeData) => {
      if (err) reject(new UserError(`${shownAs}: not a video or image ffmpeg can read (${ffprobeReason(err, target)})`));
      else resolve(data);
    });
  });
}

/** The most specific line of ffprobe's complaint: a demuxer's own message beats the generic last line. */
function ffprobeReason(err: unknown, target: string): string {
  const lines = (err instanceof Error ? err.message : String(err))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^ffprobe (exited|was killed)/.test(l));
  const specific = lines.map((l) => /^\[[^\]]+ @ [^\]]+\]\s*(.+)$/.exec(l)?.[1]).find((l) => l);
  const last = lines.at(-1)?.replace(`${target}: `, '');
  return specific ?? last ?? 'ffprobe failed';
}

function describe(spec: SourceSpec, data: FfprobeData): SourceInfo {
  const streams = data.streams ?? [];
  // Cover art in audio files shows up as a one-picture "video" stream; it is not video.
  const video = streams.find((s) => s.codec_type === 'video' && !Number(s.disposition?.attached_pic));
  const hasAudio = streams.some((s) => s.codec_type === 'audio');
  if (!video) {
    throw new UserError(`${spec.input} has no video stream${hasAudio ? ' (audio only)' : ''}`);
  }
  const rotation = rotationOf(video);
  const [w, h] = [num(video.width) ?? 0, num(video.height) ?? 0];
  const swap = rotation === 90 || rotation === 270;
  const kind: SourceKind = spec.kind === 'file' && looksLikeImage(data, video) ? 'image' : spec.kind;
  const info: SourceInfo = {
    input: spec.input,
    width: swap ? h : w,
    height: swap ? w : h,
    fps: 0,
    rotation,
    hasAudio,
    codec: video.codec_name ?? 'unknown',
    live: spec.live,
    kind,
  };
  if (kind === 'image') {
    info.frameCount = 1;
    info.frameCountExact = true;
    return info;
  }
  info.fps = rateOf(video);
  if (kind === 'sequence') {
    info.frameCount = spec.files!.length;
    info.frameCountExact = true;
    if (info.fps > 0) info.duration = info.frameCount / info.fps;
    return info;
  }
  if (spec.live) return info;
  const created = creationNs(data.format?.tags?.['creation_time'] ?? video.tags?.['creation_time']);
  if (created !== undefined) info.creationNs = created;
  const duration = positive(num(video.duration)) ?? positive(num(data.format?.duration));
  if (duration !== undefined) info.duration = duration;
  const stored = positive(num(video.nb_frames));
  if (stored !== undefined) {
    info.frameCount = Math.round(stored);
    info.frameCountExact = true;
  } else if (duration !== undefined && info.fps > 0) {
    info.frameCount = Math.round(duration * info.fps);
    info.frameCountExact = false;
  }
  return info;
}

function looksLikeImage(data: FfprobeData, video: FfprobeStream): boolean {
  const format = String(data.format?.format_name ?? '');
  return format === 'image2' || format.endsWith('_pipe') || (num(video.nb_frames) === 1 && !positive(num(video.duration)));
}

/**
 * Clockwise display rotation. Older ffprobe reports a `rotate` tag (clockwise); newer ones only the display
 * matrix side data as `rotation` (counter-clockwise, so negated). fluent-ffmpeg's parser flattens the side
 * data block's keys into the stream object, which is where `rotation` comes from.
 */
function rotationOf(stream: FfprobeStream): number {
  const tag = num(stream.tags?.rotate);
  const side = num(stream.rotation);
  const cw = tag !== undefined ? tag : side !== undefined ? -side : 0;
  const norm = ((Math.round(cw / 90) * 90) % 360 + 360) % 360;
  return norm;
}

/** Average rate when it is sane (variable-rate video), else the nominal rate. */
function rateOf(stream: FfprobeStream): number {
  for (const r of [stream.avg_frame_rate, stream.r_frame_rate]) {
    const v = parseRate(r);
    if (v !== undefined && v > 0 && v < 1000) return v;
  }
  return 0;
}

export function parseRate(rate: unknown): number | undefined {
  if (typeof rate === 'number') return rate;
  if (typeof rate !== 'string') return undefined;
  const [n, d] = rate.split('/').map(Number);
  if (n === undefined || !Number.isFinite(n)) return undefined;
  if (d === undefined) return n;
  return d > 0 && Number.isFinite(d) ? n / d : undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function positive(v: number | undefined): number | undefined {
  return v !== undefined && v > 0 ? v : undefined;
}

/** An ISO 8601 `creation_time` tag as ns since 1970 (ms precision); undefined when absent, unparsable or 0. */
export function creationNs(tag: unknown): bigint | undefined {
  if (typeof tag !== 'string' || !tag.trim()) return undefined;
  const ms = Date.parse(tag);
  // Encoders that do not know the time write 1970-01-01 (0) or 1904 (the QuickTime epoch): no real time.
  return Number.isFinite(ms) && ms > 0 ? BigInt(ms) * 1_000_000n : undefined;
}
