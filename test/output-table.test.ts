// The output table drives export's formats: the choice by name, the name checks and the help come from its rows.
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { checkOutputName, OUTPUT_FORMATS, OUTPUT_HELP, outputFormat, outputFormatOf } from '../src/output/index.js';
import { runCli } from './helpers/cli.js';

describe('the output table', () => {
  it('chooses a format by the output name, else the first row (mp4)', () => {
    expect(OUTPUT_FORMATS[0]).toBe('mp4');
    expect(outputFormatOf('drive.saliency.MCAP')).toBe('mcap');
    expect(outputFormatOf('out.mov')).toBe('mp4');
    expect(outputFormatOf('out.avi')).toBe('mp4');
    expect(outputFormatOf('dataset')).toBe('mp4');
    expect(outputFormatOf('out.mcap', 'fiftyone')).toBe('fiftyone');
  });

  it('refuses a name a format does not take, with the row’s reason', () => {
    expect(() => checkOutputName('mcap', 'out.mp4')).toThrow(new UserError('--output out.mp4: an MCAP recording is named .mcap'));
    expect(() => checkOutputName('mp4', 'out.avi')).toThrow(UserError);
    expect(() => checkOutputName('mp4', 'OUT.M4V')).not.toThrow();
    // A folder format takes any name.
    expect(() => checkOutputName('fiftyone', 'dataset.mcap')).not.toThrow();
  });

  it("every row is a --format choice and named in export's help", async () => {
    const r = await runCli(['export', '--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const f of OUTPUT_FORMATS) {
      expect(help).toContain(`"${f}"`);
      expect(help).toContain(outputFormat(f).placeholder);
    }
    expect(help).toContain(OUTPUT_HELP.format.replace(/\s+/g, ' '));
  });
});
