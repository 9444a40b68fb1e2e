// What clients are told about the source: its name (never a folder or a URL's credentials) and what the
// transport commands can do with it (seek, loop).
import { basename } from 'node:path';
import type { SourceInfo } from '../video/index.js';
import type { SourceDescription } from './messages.js';

export function describeSource(input: string, info: SourceInfo): SourceDescription {
  const live = info.live || info.kind === 'stdin';
  return {
    name: sourceName(input, info.kind),
    kind: info.kind,
    live,
    seekable: info.kind === 'file' && !live,
    loopable: (info.kind === 'file' || info.kind === 'sequence') && !live,
    width: info.width,
    height: info.height,
    fps: info.fps,
    ...(info.duration !== undefined ? { duration: info.duration } : {}),
    ...(info.frameCount !== undefined ? { frameCount: info.frameCount } : {}),
  };
}

/** A file's name, never its folder; a URL without credentials or query. */
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
