// What kind of input a string names, and how ffmpeg must be told to open it. No ffprobe here.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { UserError } from '../errors.js';

export type SourceKind = 'file' | 'image' | 'sequence' | 'stdin' | 'url' | 'device';

export interface SourceSpec {
  input: string;
  kind: SourceKind;
  live: boolean;
  /** Options that go before ffmpeg's/ffprobe's `-i`. */
  inputOptions: string[];
  /** For a sequence: the files it covers, in the order ffmpeg reads them. */
  files?: string[];
}

// Finite network sources are rare for dashcam work and live ones must not be paused, so every URL is live
// unless the caller says otherwise.
const URL_RE = /^(rtsp|rtsps|rtmp|rtmps|http|https|udp|tcp|rtp|srt):\/\//i;
const DEVICE_RE = /^\/dev\/video\d+$/;
// Not .gif: GIFs are usually animated, so they are probed and decoded as video.
const IMAGE_EXTS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff']);
const PRINTF_RE = /%(0?)(\d*)d/;

export function classifySource(input: string): SourceSpec {
  if (input === '-') return { input, kind: 'stdin', live: false, inputOptions: [] };
  if (URL_RE.test(input)) {
    // Without a socket timeout a dead camera makes ffmpeg/ffprobe wait forever (microseconds).
    return { input, kind: 'url', live: true, inputOptions: ['-rw_timeout', '15000000'] };
  }
  if (DEVICE_RE.test(input)) return { input, kind: 'device', live: true, inputOptions: ['-f', 'v4l2'] };
  const name = basename(input);
  // A real file whose name happens to contain `[` or `%d` is a file, not a pattern.
  const patternLike = /[*?[]/.test(name) || PRINTF_RE.test(name);
  if (patternLike && existsSync(input)) {
    return { input, kind: isImageName(input) ? 'image' : 'file', live: false, inputOptions: [] };
  }
  if (/[*?[]/.test(name)) {
    return { input, kind: 'sequence', live: false, inputOptions: ['-pattern_type', 'glob'], files: globFiles(input) };
  }
  if (PRINTF_RE.test(name)) {
    const { files, startNumber } = printfFiles(input);
    return {
      input,
      kind: 'sequence',
      live: false,
      inputOptions: ['-f', 'image2', '-start_number', String(startNumber)],
      files,
    };
  }
  return { input, kind: isImageName(input) ? 'image' : 'file', live: false, inputOptions: [] };
}

export function isImageName(path: string): boolean {
  return IMAGE_EXTS.has(extname(path).toLowerCase());
}

function listDir(dir: string, pattern: string): string[] {
  if (/[*?[]/.test(dir) || PRINTF_RE.test(dir)) {
    throw new UserError(`${pattern}: wildcards and %d are only supported in the file name, not in folders`);
  }
  try {
    return readdirSync(dir || '.');
  } catch {
    throw new UserError(`${pattern}: folder ${dir || '.'} does not exist or cannot be read`);
  }
}

/** Files matching a `dir/*.jpg` style pattern (wildcards in the file name only), sorted as glob(3) does. */
function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  const re = globToRegExp(basename(pattern));
  const files = listDir(dir, pattern)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0) throw new UserError(`${pattern}: no files match`);
  return files;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Files of a printf pattern (`frame_%04d.png`). ffmpeg's image2 reads consecutive numbers from the first
 * one and stops at the first gap, so that is what we count.
 */
function printfFiles(pattern: string): { files: string[]; startNumber: number } {
  const dir = dirname(pattern);
  const name = basename(pattern);
  const m = PRINTF_RE.exec(name)!;
  const [prefix, suffix] = [name.slice(0, m.index), name.slice(m.index + m[0].length)];
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc(prefix)}(\\d+)${esc(suffix)}$`);
  const numbers = new Set<number>();
  for (const f of listDir(dir, pattern)) {
    const n = re.exec(f)?.[1];
    if (n !== undefined && f === formatNumbered(name, Number(n))) numbers.add(Number(n));
  }
  if (numbers.size === 0) throw new UserError(`${pattern}: no files match`);
  // A loop, not Math.min(...numbers): spreading 200 000 arguments overflows the call stack.
  let startNumber = Infinity;
  for (const n of numbers) if (n < startNumber) startNumber = n;
  const files: string[] = [];
  for (let n = startNumber; numbers.has(n); n++) files.push(join(dir, formatNumbered(name, n)));
  return { files, startNumber };
}

function formatNumbered(name: string, n: number): string {
  return name.replace(PRINTF_RE, (_all, zero: string, width: string) =>
    zero ? String(n).padStart(Number(width || 0), '0') : String(n).padStart(Number(width || 0), ' '),
  );
}
