// Progress of a long audit on stderr: a live bar on a terminal, plain periodic lines in logs and CI.
import cliProgress from 'cli-progress';
import type { AuditProgress } from '../audit/run.js';

export interface ProgressReporter {
  update(p: AuditProgress): void;
  /** A message that must not be overwritten by the bar. */
  log(msg: string): void;
  stop(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
  /** Plain mode: at most one line per this many ms, besides one per finished frame. */
  intervalMs?: number;
}

export function createProgress(options: ProgressOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { update: () => undefined, log: (m) => void stream.write(`saliencam: ${m}\n`), stop: () => undefined };
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream, options.intervalMs ?? 30_000);
}

class BarProgress implements ProgressReporter {
  private readonly multi: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | undefined;

  constructor(stream: NodeJS.WriteStream) {
    this.multi = new cliProgress.MultiBar(
      {
        stream,
        format: 'audit |{bar}| {percentage}% | {frames} sampled frames | {detections} detections | {where} | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 8,
        etaAsynchronousUpdate: true,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(p: AuditProgress): void {
    const payload = {
      frames: `${p.framesDone}/${p.framesTotal ?? '?'}`,
      detections: p.detectionsDone,
      where:
        p.frame !== undefined
          ? `frame ${p.frame}${p.detectionsInFrame ? ` det ${p.detectionsDoneInFrame + 1}/${p.detectionsInFrame}` : ''}`
          : p.framesTotal !== undefined && p.framesDone >= p.framesTotal
            ? 'done'
            : 'decoding',
    };
    // The bar's unit is sampled frames; fractions keep it moving within a slow frame.
    const total = Math.max(p.framesTotal ?? 0, Math.ceil(p.value), 1);
    if (!this.bar) this.bar = this.multi.create(total, p.value, payload);
    else {
      this.bar.setTotal(total);
      this.bar.update(p.value, payload);
    }
  }

  log(msg: string): void {
    this.multi.log(`saliencam: ${msg}\n`);
  }

  stop(): void {
    this.multi.stop();
  }
}

class LineProgress implements ProgressReporter {
  private readonly t0 = performance.now();
  private lastLine = 0;
  private lastFrames = -1;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs: number,
  ) {}

  update(p: AuditProgress): void {
    const now = performance.now();
    const frameDone = p.framesDone !== this.lastFrames;
    if (!frameDone && now - this.lastLine < this.intervalMs) return;
    this.lastFrames = p.framesDone;
    this.lastLine = now;
    const elapsed = now - this.t0;
    const parts = [`audit: ${p.framesDone}/${p.framesTotal ?? '?'} sampled frames`, `${p.detectionsDone} detections`];
    if (p.frame !== undefined) parts.push(`at frame ${p.frame}${p.detectionsInFrame ? ` (detection ${p.detectionsDoneInFrame + 1}/${p.detectionsInFrame})` : ''}`);
    parts.push(`${clock(elapsed)} elapsed`);
    if (p.framesTotal && p.value > 0 && p.value < p.framesTotal) parts.push(`~${clock((elapsed / p.value) * (p.framesTotal - p.value))} left`);
    this.stream.write(`saliencam: ${parts.join(', ')}\n`);
  }

  log(msg: string): void {
    this.stream.write(`saliencam: ${msg}\n`);
  }

  stop(): void {}
}

/** m:ss or h:mm:ss. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
