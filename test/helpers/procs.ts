// Processes around a CLI run: the children a process has (Linux /proc), and the CLI run under shell limits.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { BIN, type CliResult } from './cli.js';

export interface ChildInfo {
  pid: number;
  /** argv, as /proc/<pid>/cmdline has it. */
  argv: string[];
}

/** The live children of `pid` (every thread's), with their command lines; [] where /proc has none. */
export function childProcesses(pid: number): ChildInfo[] {
  const pids = new Set<number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const t of tasks) {
    try {
      for (const p of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (p) pids.add(Number(p));
    } catch {
      // the thread ended in between
    }
  }
  const out: ChildInfo[] = [];
  for (const p of pids) {
    try {
      out.push({ pid: p, argv: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // exited in between
    }
  }
  return out;
}

/** ffmpeg decoding for saliencam: raw RGB to a pipe, frame times from showinfo. */
export const isDecoder = (c: ChildInfo): boolean => /ffmpeg/.test(c.argv[0] ?? '') && c.argv.includes('rawvideo') && c.argv.some((a) => a.includes('showinfo'));
/** ffmpeg encoding for saliencam: raw RGB from its stdin to H.264. */
export const isEncoder = (c: ChildInfo): boolean => /ffmpeg/.test(c.argv[0] ?? '') && c.argv.includes('libx264');

/**
 * Runs the CLI as `bash -c '<limits>; exec node bin/saliencam.js …'`, so that the limits (`ulimit -f 64`)
 * apply to it and to the ffmpeg it starts, and to nothing else.
 */
export function runCliWithLimits(limits: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `${limits}; exec "$0" "$@"`, process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
