// Progress on stderr: a bar on a terminal, plain periodic lines otherwise (logs, CI).
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

export function createProgress(label: string, quiet = false): Progress {
  if (quiet) return { update() {}, stop() {} };
  const t0 = performance.now();
  const fps = (done: number) => (done / Math.max((performance.now() - t0) / 1000, 1e-3)).toFixed(1);
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} frames | {fps} fps | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total ?? 0, 0, { fps: '0.0' });
          started = true;
        }
        if (total !== undefined) bar.setTotal(total);
        bar.update(done, { fps: fps(done) });
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = 0;
  return {
    update(done, total) {
      const now = performance.now();
      if (now - last < 2000) return;
      last = now;
      process.stderr.write(`${label}: ${done}${total ? `/${total}` : ''} frames, ${fps(done)} fps\n`);
    },
    stop() {},
  };
}
