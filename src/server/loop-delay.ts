// How long the server's event loop keeps callbacks waiting (timers, sockets, pings): the figure that says
// whether one viewer's explaining can stall the others. perf_hooks samples it every `resolutionMs`.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelay {
  /** Milliseconds, over `windowMs` (since the server started or the last reset). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  windowMs: number;
}

export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram;
  private since = performance.now();

  constructor(resolutionMs = 10) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  /**
   * The figures so far; `reset` starts a new window after reading them. (The first sampling tick of a new
   * window only starts its clock, so a stall that begins before that tick is not counted.)
   */
  read(reset = false): LoopDelay {
    const h = this.histogram;
    const ms = (ns: number): number => Math.round((Number.isFinite(ns) ? ns : 0) / 1e4) / 100;
    const out: LoopDelay = {
      p50Ms: h.count ? ms(h.percentile(50)) : 0,
      p99Ms: h.count ? ms(h.percentile(99)) : 0,
      maxMs: h.count ? ms(h.max) : 0,
      meanMs: h.count ? ms(h.mean) : 0,
      windowMs: Math.round(performance.now() - this.since),
    };
    if (reset) {
      h.reset();
      this.since = performance.now();
    }
    return out;
  }

  stop(): void {
    this.histogram.disable();
  }
}
