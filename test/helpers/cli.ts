// Run the built CLI as a user would, capturing its output and exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve('bin/saliencam.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  onSpawn?: (child: ChildProcess) => void;
  /**
   * Run without root's right to read any file (util-linux's `setpriv` drops CAP_DAC_OVERRIDE and
   * CAP_DAC_READ_SEARCH from the bounding set): file permissions then apply to root too, while the checkout,
   * wherever CI cloned it, stays readable by its owner.
   */
  withoutFileOverride?: boolean;
}

export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const argv = [process.execPath, BIN, ...args];
    const [cmd, ...rest] = opts.withoutFileOverride ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', ...argv] : argv;
    const child = spawn(cmd!, rest, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    opts.onSpawn?.(child);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A user-facing failure: one line on stderr, starting with the program name, no stack trace. */
export function expectOneLineError(r: CliResult): string {
  // Parenthesised hints ("(Did you mean explain?)") may follow the error line.
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('('));
  if (lines.length !== 1 || !lines[0]!.startsWith('saliencam: ') || /\n\s+at /.test(r.stderr)) {
    throw new Error(`expected one error line, got:\n${r.stderr}`);
  }
  return lines[0]!;
}
