// The CLI run with its peak resident memory measured: a preload module (NODE_OPTIONS=--import) writes
// process.resourceUsage().maxRSS to a file when the process exits, however it exits (a native abort or an
// out-of-memory kill writes nothing, and the test fails on the missing figure and the exit code).
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli, type CliResult } from './cli.js';

let preload: Promise<string> | undefined;

function preloadModule(): Promise<string> {
  preload ??= (async () => {
    const p = join(tmpdir(), `saliencam-peak-rss-${process.pid}.mjs`);
    await writeFile(
      p,
      "import { writeFileSync } from 'node:fs';\n" +
        "process.on('exit', () => { const f = process.env.SALIENCAM_TEST_RSS_FILE; if (f) writeFileSync(f, String(process.resourceUsage().maxRSS)); });\n",
    );
    return p;
  })();
  return preload;
}

export interface MeasuredRun extends CliResult {
  /** Peak RSS of the CLI's Node process in MiB (NaN when the process died before it could say). */
  peakRssMiB: number;
}

export async function runCliMeasured(args: string[], opts: { timeoutMs?: number } = {}): Promise<MeasuredRun> {
  const file = join(tmpdir(), `saliencam-rss-${randomUUID()}`);
  const r = await runCli(args, {
    timeoutMs: opts.timeoutMs ?? 60_000,
    env: { NODE_OPTIONS: `--import=${pathToFileURL(await preloadModule()).href}`, SALIENCAM_TEST_RSS_FILE: file },
  });
  const kib = Number(await readFile(file, 'utf8').catch(() => 'NaN'));
  await rm(file, { force: true });
  return { ...r, peakRssMiB: kib / 1024 };
}
