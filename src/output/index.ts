// The output table: one row per export format, keyed by its name. `--format`'s choices, the name a format
// is chosen by, the checks on `--output`, the writer and the help all come from the rows, so a new format is
// its own file (a FrameOutput and its OutputFormatRow) plus one row here. The first row is the default.
import { UserError } from '../errors.js';
import { fiftyOneOutput } from './fiftyone.js';
import { mcapOutput } from './mcap.js';
import { mp4Output } from './mp4.js';
import type { OutputFormatRow } from './output.js';

export type { FrameOutput, OutputContext, OutputFormatRow, OutputWriter } from './output.js';
export { sidecarOutput } from './sidecar.js';

const OUTPUTS = {
  mp4: mp4Output,
  mcap: mcapOutput,
  fiftyone: fiftyOneOutput,
} as const satisfies Record<string, OutputFormatRow>;

export type OutputFormat = keyof typeof OUTPUTS;

/** Every format name, in the table's order (the default first). */
export const OUTPUT_FORMATS = Object.keys(OUTPUTS) as [OutputFormat, ...OutputFormat[]];

export function outputFormat(format: OutputFormat): OutputFormatRow {
  return OUTPUTS[format];
}

const extensionOf = (path: string): string => /\.[^./\\]*$/.exec(path)?.[0].toLowerCase() ?? '';

/** The format an output path asks for: `format` when given, else the row whose extensions name it, else the first row. */
export function outputFormatOf(path: string, format?: OutputFormat): OutputFormat {
  if (format) return format;
  const ext = extensionOf(path);
  return OUTPUT_FORMATS.find((f) => outputFormat(f).extensions?.includes(ext)) ?? OUTPUT_FORMATS[0];
}

/** Refuses an output name the format does not take (an .mp4 named .avi, an MCAP recording not named .mcap). */
export function checkOutputName(format: OutputFormat, path: string): void {
  const row = outputFormat(format);
  if (row.extensions && !row.extensions.includes(extensionOf(path))) throw new UserError(`--output ${path}: ${row.misnamed ?? `name it ${row.extensions.join(' or ')}`}`);
}

const either = (words: readonly string[]): string => (words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')}, or ${words.at(-1)}`);
const rows = (): OutputFormatRow[] => OUTPUT_FORMATS.map(outputFormat);

/** The help texts `saliencam export` is described with. */
export const OUTPUT_HELP = {
  /** "H.264 mp4, or an MCAP recording, or …" */
  titles: rows().map((r) => r.title).join(', or '),
  /** `--output`'s placeholder and help. */
  placeholder: rows().map((r) => r.placeholder).join('|'),
  output: either(rows().map((r) => r.help)),
  /** `--format`'s help. */
  format: `output format (default: from the output name, ${rows()
    .flatMap((r, i) => (r.extensions ? [`${r.extensions.join('/')} → ${OUTPUT_FORMATS[i]}`] : []))
    .join(', ')}, else ${OUTPUT_FORMATS[0]})`,
};
