// `audit --budget`: the time an audit may take, and which frames still fit in it. A frame's cost is mostly
// its detector runs on perturbed copies, which grow with its distinct maps (one per method and class, one per
// class-agnostic method, plus the random maps), so each frame is admitted on a prediction made after its
// detection pass (cheap) and before its maps: a frame that would overrun is skipped, and a cheaper one later
// in the order may still fit. The run stops at the deadline itself; a frame running then is dropped.

/** Predicts a frame's cost from its distinct maps, at the rate measured on the frames audited so far. */
export class FrameCostModel {
  private ms = 0;
  private units = 0;

  /** The cost assumed before any frame is measured (see `priorFrameCost`); unknown: infinite. */
  prior: (units: number) => number = () => Number.POSITIVE_INFINITY;

  get measured(): boolean {
    return this.units > 0;
  }

  /** A frame of `units` distinct maps took `ms`. */
  record(units: number, ms: number): void {
    if (units > 0 && ms > 0) {
      this.units += units;
      this.ms += ms;
    }
  }

  predict(units: number): number {
    return this.measured ? (units * this.ms) / this.units : this.prior(units);
  }
}

/**
 * A frame's cost before any frame is measured, from one timed forward pass: 2·(steps − 1) detector runs per
 * distinct map (deletion and insertion) shared by `concurrency` threads, plus the frame's method maps (its own
 * and max-sensitivity's noisy copies', `explains`), about one forward each (measured: five methods in one
 * explainMethods call 909 ms against a 203 ms forward).
 */
export function priorFrameCost(forwardMs: number, o: { steps: number; concurrency: number; explains: number }): (units: number) => number {
  return (units) => forwardMs * ((2 * (o.steps - 1) * units) / Math.max(1, o.concurrency) + o.explains);
}

export class AuditBudget {
  private readonly stop = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly startedAt: number;

  constructor(
    readonly totalMs: number,
    startedAt = performance.now(),
  ) {
    this.startedAt = startedAt;
    this.timer = setTimeout(() => this.stop.abort(), Math.max(0, totalMs - (performance.now() - startedAt)));
  }

  /** Fires at the deadline. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  get spentMs(): number {
    return performance.now() - this.startedAt;
  }

  get leftMs(): number {
    return Math.max(0, this.totalMs - this.spentMs);
  }

  /** Whether work predicted to take `ms` (plus `reserveMs` kept for after the frames) ends before the deadline. */
  fits(ms: number, reserveMs = 0): boolean {
    return !this.stop.signal.aborted && ms + reserveMs <= this.leftMs;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

export interface AdmissionRules {
  /** Distinct maps of the cheapest frame that has a detection. */
  cheapestUnits: number;
  /** The prior cost model from one timed detection pass (used until a frame is measured). */
  prior: (detectMs: number) => (units: number) => number;
  /**
   * Time kept for the work after the frames (the sanity check): for the frames kept so far, or, given a
   * frame's ordinal and detection time, also for that frame if it would be kept.
   */
  reserve: (frame?: { ordinal: number; detectMs: number }) => number;
}

/** Which frames a budgeted run audits: each frame admitted on its predicted cost, once its detections are known. */
export class BudgetAdmission {
  private readonly cost = new FrameCostModel();

  constructor(
    private readonly budget: AuditBudget,
    private readonly rules: AdmissionRules,
  ) {}

  /** False once even the cheapest frame would not fit: the run stops. */
  anyFits(): boolean {
    if (this.budget.signal.aborted) return false;
    return !this.cost.measured || this.budget.fits(this.cost.predict(this.rules.cheapestUnits), this.rules.reserve());
  }

  /** The predicted cost of the cheapest frame with a detection (infinite before any prediction can be made). */
  get cheapestMs(): number {
    return this.cost.predict(this.rules.cheapestUnits);
  }

  /** Whether a frame of `units` distinct maps, whose detection pass took `detectMs`, fits in what is left. */
  fits(units: number, detectMs: number, ordinal: number): boolean {
    if (units === 0) return true; // nothing to audit: it costs no more than it has
    if (!this.cost.measured) this.cost.prior = this.rules.prior(detectMs);
    return this.budget.fits(this.cost.predict(units), this.rules.reserve({ ordinal, detectMs }));
  }

  /** An admitted frame of `units` distinct maps took `ms` (detection included). */
  record(units: number, ms: number): void {
    this.cost.record(units, ms);
  }
}
