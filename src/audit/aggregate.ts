// The summary table: per method (and per class and method) mean and spread of every metric, with the
// random baseline as its own row. Non-finite values (e.g. an AUC of a detection that vanished on the
// unperturbed image) are left out and show up as a smaller n.
import {
  RANDOM,
  type AuditSummary,
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
  const labels = [...new Set(detections.map((d) => d.label))].sort();
  const perClass = labels.flatMap((label) =>
    rowsFor(
      detections.filter((d) => d.label === label),
      temporal.filter((t) => t.label === label),
      methods,
    ).map((r) => ({ ...r, label })),
  );
  return { overall, perClass };
}

function rowsFor(detections: readonly DetectionAudit[], temporal: readonly TemporalResult[], methods: readonly string[]): SummaryRow[] {
  const row = (method: string, values: MetricValues[]): SummaryRow => {
    const t = temporal.filter((r) => r.method === method);
    const pick = (k: ScalarMetric) => spread(values.map((v) => v[k]));
    return {
      method,
      detections: values.length,
      deletionAuc: pick('deletionAuc'),
      insertionAuc: pick('insertionAuc'),
      energyInBoxes: pick('energyInBoxes'),
      areaInBoxes: pick('areaInBoxes'),
      pointingHitRate: pick('pointingHit'),
      maxSensitivity: pick('maxSensitivity'),
      temporalChange: spread(
        t.map((r) => r.meanChange),
        t.map((r) => r.transitions),
      ),
      msPerMap: pick('msPerMap'),
    };
  };
  const rows = methods.map((m) =>
    row(
      m,
      detections.flatMap((d) => (d.methods[m] ? [d.methods[m]] : [])),
    ),
  );
  rows.push(row(RANDOM, detections.map((d) => d.random)));
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
