// Starts a fluent-ffmpeg command and hands back the child process, its exit status and its stderr.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { FfmpegCommand } from 'fluent-ffmpeg';
import { trackChild } from './exit-cleanup.js';
import { locateFfmpeg } from './ffmpeg-locate.js';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FfmpegRun {
  proc: ChildProcess;
  /** Resolves (never rejects) once ffmpeg has exited and its stderr has been read to the end. */
  exited: Promise<FfmpegExit>;
  /** Whether ffmpeg has exited. */
  readonly running: boolean;
}

type SpawnFn = (args: string[], options: SpawnOptions, ...callbacks: unknown[]) => void;

/**
 * Runs `command` with ffmpeg in its own process group, so that a terminal Ctrl-C (SIGINT to the
 * foreground group) reaches only us: the caller decides how to stop ffmpeg (finish the file, or kill it).
 * fluent-ffmpeg does not expose spawn's `detached`, so the instance's private `_spawnFfmpeg` is wrapped
 * to add it; if a future fluent-ffmpeg renames that method the command still runs, just not isolated.
 * `onLine` gets each stderr line as ffmpeg prints it.
 */
export function startFfmpeg(command: FfmpegCommand, onLine?: (line: string) => void): Promise<FfmpegRun> {
  locateFfmpeg();
  const internals = command as unknown as { _spawnFfmpeg?: SpawnFn; ffmpegProc?: ChildProcess };
  const original = internals._spawnFfmpeg;
  if (typeof original === 'function') {
    internals._spawnFfmpeg = function (this: unknown, args, options, ...callbacks) {
      return original.call(this, args, { ...options, detached: true }, ...callbacks);
    };
  }

  // fluent-ffmpeg emits 'stderr' lines only if a listener exists when the command starts.
  if (onLine) command.on('stderr', (line: string) => onLine(line));

  return new Promise<FfmpegRun>((resolve, reject) => {
    let started = false;
    let proc: ChildProcess | undefined;
    let settle: (exit: FfmpegExit) => void = () => undefined;
    const exited = new Promise<FfmpegExit>((res) => {
      settle = res;
    });
    // fluent-ffmpeg reports 'end'/'error' after the process exited and stderr closed; both mean "done".
    // Its own 'exit' listener runs before any of ours, so read the status from the process object.
    const done = (): void => settle({ code: proc?.exitCode ?? null, signal: proc?.signalCode ?? null });
    command.on('end', done);
    command.on('error', (err: Error) => {
      if (!started) reject(err);
      done();
    });
    command.on('start', (cmdline: string) => {
      // SALIENCAM_DEBUG_FFMPEG=1 prints each ffmpeg command line (for bug reports).
      if (process.env.SALIENCAM_DEBUG_FFMPEG) process.stderr.write(`${cmdline}\n`);
      const child = internals.ffmpegProc;
      if (!child) {
        reject(new Error('fluent-ffmpeg started without a process'));
        return;
      }
      proc = child;
      started = true;
      trackChild(child);
      resolve({
        proc: child,
        exited,
        get running() {
          return child.exitCode === null && child.signalCode === null;
        },
      });
    });
    command.run();
  });
}

/** Kills `run` (SIGKILL: its output is being thrown away) and waits for it to be gone. */
export async function killFfmpeg(run: FfmpegRun): Promise<FfmpegExit> {
  if (run.running) {
    try {
      run.proc.kill('SIGKILL');
    } catch {
      // exited in between
    }
  }
  return run.exited;
}
