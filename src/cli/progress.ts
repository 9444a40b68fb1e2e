// The one progress helper (export, fleet workers, audit) on stderr: a live bar on a terminal, plain periodic
// lines with elapsed time and an estimate of what is left otherwise (logs, CI).
import cliProgress from 'cli-progress';
import { terminalSafe } from '../terminal-text.js';

export interface ProgressUpdate {
  /** Units finished. */
  done: number;
  /** Units in all, when known. */
  total?: number;
  /** Where the bar stands, fractions allowed so it moves within a slow unit (default `done`). */
  value?: number;
  /** Extra facts after the count ("12 detections", "at frame 7"). */
  details?: readonly string[];
}

export interface Progress {
  update(p: ProgressUpdate): void;
  /** A message that must not be overwritten by the bar. */
  log(msg: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** What is counted, after the count: "frames", "sampled frames". */
  unit?: string;
  /** Append the rate, e.g. "fps" (units per second). */
  rateUnit?: string;
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
  /** Plain mode: at most one line per this many ms... */
  intervalMs?: number;
  /** ...besides one per finished unit (slow units, as an audit's frames). */
  lineEachUnit?: boolean;
}

export function createProgress(rawLabel: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  // Labels, details and messages carry file and class names: escaped, they cannot drive the terminal.
  const label = terminalSafe(rawLabel);
  const log = (msg: string): void => void stream.write(`saliencam: ${terminalSafe(msg)}\n`);
  if (options.quiet) return { update: () => undefined, log, stop: () => undefined };
  const t0 = performance.now();
  const unit = options.unit ?? 'frames';
  const parts = (p: ProgressUpdate): string[] => {
    const out = [`${p.done}/${p.total ?? '?'} ${unit}`, ...(p.details ?? []).map(terminalSafe)];
    if (options.rateUnit) out.push(`${(p.done / Math.max((performance.now() - t0) / 1000, 1e-3)).toFixed(1)} ${options.rateUnit}`);
    return out;
  };
  return stream.isTTY ? barProgress(stream, label, parts, log) : lineProgress(stream, label, parts, options, t0);
}

function barProgress(stream: NodeJS.WriteStream, label: string, parts: (p: ProgressUpdate) => string[], log: (msg: string) => void): Progress {
  // A MultiBar, not a SingleBar: its log() prints above the bar instead of being overwritten by it.
  const multi = new cliProgress.MultiBar(
    { stream, format: `${label} |{bar}| {percentage}% | {facts} | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: false, etaBuffer: 8, etaAsynchronousUpdate: true, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(p) {
      const value = p.value ?? p.done;
      const total = Math.max(p.total ?? 0, Math.ceil(value), 1);
      const payload = { facts: parts(p).join(' | ') };
      if (!bar) bar = multi.create(total, value, payload);
      else {
        bar.setTotal(total);
        bar.update(value, payload);
      }
    },
    log: (msg) => (bar ? multi.log(`saliencam: ${terminalSafe(msg)}\n`) : log(msg)),
    stop: () => multi.stop(),
  };
}

function lineProgress(stream: NodeJS.WriteStream, label: string, parts: (p: ProgressUpdate) => string[], options: ProgressOptions, t0: number): Progress {
  const intervalMs = options.intervalMs ?? 30_000;
  let lastLine = -Infinity; // the first update always prints
  let lastDone = -1;
  return {
    update(p) {
      const now = performance.now();
      const unitDone = options.lineEachUnit === true && p.done !== lastDone;
      if (!unitDone && now - lastLine < intervalMs) return;
      lastDone = p.done;
      lastLine = now;
      const elapsed = now - t0;
      const value = p.value ?? p.done;
      const out = [...parts(p), `${clock(elapsed)} elapsed`];
      if (p.total && value > 0 && value < p.total) out.push(`~${clock((elapsed / value) * (p.total - value))} left`);
      stream.write(`saliencam: ${label}: ${out.join(', ')}\n`);
    },
    log: (msg) => void stream.write(`saliencam: ${terminalSafe(msg)}\n`),
    stop: () => undefined,
  };
}

/** m:ss or h:mm:ss. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
