// Reading ffmpeg's stderr when it runs with `-loglevel level+info`: every line carries its level
// ("[h264 @ 0x…] [error] …"), which is how errors are told apart from chatter without guessing.

export type LogLevel = 'trace' | 'debug' | 'verbose' | 'info' | 'warning' | 'error' | 'fatal' | 'panic';

export interface LogLine {
  level: LogLevel | undefined;
  /** The component in brackets before the level, e.g. "h264 @ 0x3ba3a080" or "Parsed_showinfo_0 @ 0x…". */
  context: string | undefined;
  text: string;
}

/** ffmpeg arguments that make stderr parseable by this module. */
export const LOG_ARGS = ['-hide_banner', '-nostats', '-loglevel', 'level+info'];

const LINE_RE = /^(?:\[([^\]]+ @ [^\]]+)\] )?(?:\[(trace|debug|verbose|info|warning|error|fatal|panic)\] ?)?(.*)$/;

export function parseLogLine(line: string): LogLine {
  const m = LINE_RE.exec(line.replace(/\r/g, ''));
  return { context: m?.[1], level: m?.[2] as LogLevel | undefined, text: (m?.[3] ?? line).trim() };
}

export function isErrorLevel(level: LogLevel | undefined): boolean {
  return level === 'error' || level === 'fatal' || level === 'panic';
}

/** pts_time of a `showinfo` frame line, NaN when the frame had no pts; undefined if not a frame line. */
export function showinfoTime(line: LogLine): number | undefined {
  if (!line.context?.startsWith('Parsed_showinfo')) return undefined;
  const m = /\bn:\s*\d+\s+pts:\s*\S+\s+pts_time:(\S+)/.exec(line.text);
  if (!m) return undefined;
  const t = Number(m[1]);
  return Number.isFinite(t) ? t : NaN;
}

export interface StreamHeader {
  width: number;
  height: number;
}

/**
 * Follows ffmpeg's "Input #0 … Output #0 …" header. The output video stream line gives the size of the
 * raw frames on stdout (after autorotation); the input video stream line gives codec and rate, which is
 * all we know about stdin.
 */
export class HeaderReader {
  private section: 'none' | 'input' | 'output' = 'none';
  input: { codec?: string; fps?: number; width?: number; height?: number } = {};
  output: StreamHeader | undefined;

  /** Feeds one line; returns true when it completed the output header. */
  push(line: LogLine): boolean {
    const t = line.text;
    if (/^Input #0\b/.test(t)) this.section = 'input';
    else if (/^Output #0\b/.test(t)) this.section = 'output';
    else if (/^Stream #0:\d+.*: Video: /.test(t)) {
      const size = /,\s(\d+)x(\d+)[\s,[]/.exec(`${t} `);
      if (this.section === 'output' && !this.output && size) {
        this.output = { width: Number(size[1]), height: Number(size[2]) };
        return true;
      }
      if (this.section === 'input' && this.input.codec === undefined) {
        const fps = /([\d.]+) (?:fps|tbr)\b/.exec(t);
        this.input = {
          codec: /Video: (\w+)/.exec(t)?.[1],
          fps: fps ? Number(fps[1]) : undefined,
          width: size ? Number(size[1]) : undefined,
          height: size ? Number(size[2]) : undefined,
        };
      }
    }
    return false;
  }
}

// Follow-on complaints ffmpeg prints after the real cause; never the line to show.
const GENERIC = /^(Error marking filters as finished|Conversion failed|Cannot determine format of input stream|Error while filtering|Failed to inject frame into filter network|Error while processing the decoded data|Nothing was written into output file)/;

/**
 * The one line worth showing for a failed or partial run: the last error-level line that names a cause,
 * else the last warning. `fallback` when ffmpeg said nothing useful.
 */
export function pickErrorLine(lines: LogLine[], fallback?: string): string | undefined {
  const last = (pred: (l: LogLine) => boolean): LogLine | undefined => [...lines].reverse().find(pred);
  const useful = (l: LogLine): boolean => l.text !== '' && !GENERIC.test(l.text);
  const picked =
    last((l) => isErrorLevel(l.level) && useful(l)) ??
    last((l) => l.level === 'warning' && useful(l)) ??
    last((l) => isErrorLevel(l.level) && l.text !== '');
  return picked ? picked.text : fallback;
}
