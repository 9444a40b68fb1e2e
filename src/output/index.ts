// Export outputs other than the mp4: chosen by --format, else by the output's extension.
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { checkOutputPath } from '../video/atomic.js';
import type { SourceInfo } from '../video/probe.js';
import { openFiftyOneOutput } from './fiftyone-sink.js';
import { openMcapOutput } from './mcap-sink.js';
import type { FrameOutput, OutputFormat } from './sink.js';

export type { FrameOutput, OutputFormat } from './sink.js';

/** The format an output path asks for: .mcap → mcap, anything else → mp4 (checked by the CLI). */
export function outputFormatOf(path: string, format?: OutputFormat): OutputFormat {
  if (format) return format;
  return /\.mcap$/i.test(path) ? 'mcap' : 'mp4';
}

/** Fails fast, before any decoding, when the output cannot be created. */
export async function checkOutput(format: OutputFormat, path: string): Promise<void> {
  if (format === 'fiftyone' && existsSync(path)) throw new UserError(`--output ${path} already exists; give a new folder name for the FiftyOne dataset`);
  await checkOutputPath(path);
}

/** The non-mp4 outputs; the mp4 encoder stays in video/encode.ts. */
export function openFrameOutput(format: Exclude<OutputFormat, 'mp4'>, path: string, info: SourceInfo, classNames: readonly string[]): Promise<FrameOutput> {
  return format === 'mcap' ? openMcapOutput(path, info) : openFiftyOneOutput(path, info, classNames);
}
