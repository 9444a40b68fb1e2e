// The summary table: per method (and per class and method) mean and spread of every metric, with the
// random baseline as its own row. Non-finite values (e.g. an AUC of a detection that vanished on the
// unperturbed image) are left out and show up as a smaller n.
import { clusterBootstrap, pairedDifference } from './bootstrap.js';
import {
  RANDOM,
  type Comparison,
  type AuditSummary,
  type AuditSummaryJson,
  type IntervalJson,
  type DetectionAudit,
  type MetricValues,
  type ScalarMetric,
  type Spread,
  type SummaryRow,
  type TemporalResult,
} from './types.js';

/** Weighted mean and (unbiased for unit weights) standard deviation of the finite values. */
export function spread(values: readonly (number | undefined)[], weights?: readonly number[]): Spread {
  const xs: number[] = [];
  const ws: number[] = [];
  values.forEach((v, i) => {
    const w = weights?.[i] ?? 1;
    if (v !== undefined && Number.isFinite(v) && w > 0) {
      xs.push(v);
      ws.push(w);
    }
  });
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const W = ws.reduce((a, b) => a + b, 0);
  const mean = xs.reduce((a, x, i) => a + x * ws[i]!, 0) / W;
  if (n === 1) return { mean, std: 0, n };
  const ss = xs.reduce((a, x, i) => a + ws[i]! * (x - mean) ** 2, 0);
  return { mean, std: Math.sqrt((ss / W) * (n / (n - 1))), n };
}

/** Methods in first-seen order (random last is implied). */
export function methodsOf(detections: readonly DetectionAudit[]): string[] {
  const seen = new Set<string>();
  for (const d of detections) for (const m of Object.keys(d.methods)) seen.add(m);
  return [...seen];
}

export function aggregate(
  detections: readonly DetectionAudit[],
  temporal: readonly TemporalResult[] = [],
  methods: readonly string[] = methodsOf(detections),
): AuditSummary {
  const overall = rowsFor(detections, temporal, methods);
  const comparisons = compare(detections, methods);
  const labels = [...new Set(detections.map((d) => d.label))].sort();
  const perClass = labels.flatMap((label) =>
    rowsFor(
      detections.filter((d) => d.label === label),
      temporal.filter((t) => t.label === label),
      methods,
    ).map((r) => ({ ...r, label })),
  );
  return { overall, perClass, comparisons };
}

function rowsFor(detections: readonly DetectionAudit[], temporal: readonly TemporalResult[], methods: readonly string[]): SummaryRow[] {
  const row = (method: string, values: MetricValues[], frames: number[]): SummaryRow => {
    const t = temporal.filter((r) => r.method === method);
    const pick = (k: ScalarMetric) => withInterval(spread(values.map((v) => v[k])), values.map((v, i) => ({ value: v[k] ?? NaN, cluster: frames[i]! })));
    return {
      method,
      detections: values.length,
      deletionAuc: pick('deletionAuc'),
      insertionAuc: pick('insertionAuc'),
      energyInBoxes: pick('energyInBoxes'),
      areaInBoxes: pick('areaInBoxes'),
      pointingHitRate: pick('pointingHit'),
      maxSensitivity: pick('maxSensitivity'),
      temporalChange: withInterval(
        spread(
          t.map((r) => r.meanChange),
          t.map((r) => r.transitions),
        ),
        t.map((r) => ({ value: r.meanChange, cluster: r.trackId, weight: r.transitions })),
      ),
      msPerMap: pick('msPerMap'),
    };
  };
  const rows = methods.map((m) => {
    const have = detections.filter((d) => d.methods[m]);
    return row(
      m,
      have.map((d) => d.methods[m]!),
      have.map((d) => d.frame),
    );
  });
  rows.push(
    row(
      RANDOM,
      detections.map((d) => d.random),
      detections.map((d) => d.frame),
    ),
  );
  return rows;
}

/** Pointwise mean of the curves that have `points` finite values (others are skipped); undefined if none. */
export function meanCurve(curves: readonly (readonly number[] | undefined)[]): number[] | undefined {
  const ok = curves.filter((c): c is readonly number[] => !!c && c.length > 0 && c.every(Number.isFinite));
  const len = ok[0]?.length;
  const same = ok.filter((c) => c.length === len);
  if (!len || same.length === 0) return undefined;
  return Array.from({ length: len }, (_, i) => same.reduce((a, c) => a + c[i]!, 0) / same.length);
}

function withInterval(s: Spread, observations: Parameters<typeof clusterBootstrap>[0]): Spread {
  return s.n > 0 ? { ...s, ci95: clusterBootstrap(observations).ci95 } : s;
}

/** Metrics compared pairwise, and which direction is better. */
export const COMPARED: readonly { metric: ScalarMetric; better: 'low' | 'high' }[] = [
  { metric: 'deletionAuc', better: 'low' },
  { metric: 'insertionAuc', better: 'high' },
  { metric: 'energyInBoxes', better: 'high' },
  { metric: 'pointingHit', better: 'high' },
  { metric: 'maxSensitivity', better: 'low' },
];

/** Paired differences per metric: each method against random, then each pair of methods (same detections). */
export function compare(detections: readonly DetectionAudit[], methods: readonly string[]): Comparison[] {
  const value = (d: DetectionAudit, m: string, k: ScalarMetric): number => (m === RANDOM ? d.random[k] : d.methods[m]?.[k]) ?? NaN;
  const pairs: [string, string][] = [...methods.map((m) => [m, RANDOM] as [string, string]), ...methods.flatMap((a, i) => methods.slice(i + 1).map((b) => [a, b] as [string, string]))];
  const out: Comparison[] = [];
  for (const { metric, better } of COMPARED) {
    for (const [a, b] of pairs) {
      const d = pairedDifference(detections.map((x) => ({ a: value(x, a, metric), b: value(x, b, metric), cluster: x.frame })));
      if (d.n === 0) continue;
      out.push({ metric, a, b, mean: d.mean, ci95: d.ci95, n: d.n, frames: d.clusters, significant: d.significant, aBetter: d.significant && (better === 'low' ? d.mean < 0 : d.mean > 0) });
    }
  }
  return out;
}

/** The metric columns of a SummaryRow. */
export const ROW_METRICS = ['deletionAuc', 'insertionAuc', 'energyInBoxes', 'areaInBoxes', 'pointingHitRate', 'maxSensitivity', 'temporalChange', 'msPerMap'] as const;

/** The JSON form of the summary: `overall.<method>.<metric>` = { mean, ci95, n } (NaN kept; JSON writes null). */
export function summaryJson(summary: AuditSummary): AuditSummaryJson {
  const metrics = (r: SummaryRow): Record<string, IntervalJson> =>
    Object.fromEntries(ROW_METRICS.map((k) => [k, { mean: r[k].mean, ci95: r[k].ci95 ?? [NaN, NaN], n: r[k].n }]));
  const perClass: AuditSummaryJson['perClass'] = {};
  for (const r of summary.perClass) (perClass[r.label ?? ''] ??= {})[r.method] = metrics(r);
  return { overall: Object.fromEntries(summary.overall.map((r) => [r.method, metrics(r)])), perClass, comparisons: summary.comparisons };
}
