// Inline SVG line charts for the report: no script, no network, renders in any browser and in print.
import { escapeHtml } from './html.js';

export interface ChartSeries {
  name: string;
  /** [x, y] points; sorted by x before drawing. Non-finite y splits the line. */
  points: [number, number][];
  color: string;
  dashed?: boolean;
}

export interface ChartOptions {
  width: number;
  height: number;
  xLabel: string;
  yLabel: string;
  yMin: number;
  yMax: number;
}

const M = { left: 52, right: 14, top: 12, bottom: 38 };
/** Above this many points a series is drawn without markers (keeps long drives light). */
const MAX_MARKERS = 400;

export function lineChartSvg(series: readonly ChartSeries[], options: Partial<ChartOptions> = {}): string {
  const o: ChartOptions = { width: 900, height: 260, xLabel: 'time (s)', yLabel: '', yMin: 0, yMax: 1, ...options };
  const xs = series.flatMap((s) => s.points.map((p) => p[0])).filter(Number.isFinite);
  let x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  if (x1 === x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  const pw = o.width - M.left - M.right;
  const ph = o.height - M.top - M.bottom;
  const sx = (x: number): number => M.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => M.top + (1 - (Math.min(o.yMax, Math.max(o.yMin, y)) - o.yMin) / (o.yMax - o.yMin)) * ph;
  const f = (v: number): string => v.toFixed(1);

  const parts: string[] = [];
  for (const t of niceTicks(o.yMin, o.yMax, 5)) {
    parts.push(`<line class="grid" x1="${M.left}" x2="${o.width - M.right}" y1="${f(sy(t))}" y2="${f(sy(t))}"/>`);
    parts.push(`<text class="tick" x="${M.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${fmtTick(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1, 8)) {
    parts.push(`<line class="axis" x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${M.top + ph}" y2="${M.top + ph + 4}"/>`);
    parts.push(`<text class="tick" x="${f(sx(t))}" y="${M.top + ph + 16}" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  parts.push(`<line class="axis" x1="${M.left}" x2="${o.width - M.right}" y1="${M.top + ph}" y2="${M.top + ph}"/>`);
  parts.push(`<text class="label" x="${M.left + pw / 2}" y="${o.height - 4}" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`);
  parts.push(
    `<text class="label" transform="translate(12 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`,
  );

  for (const s of series) {
    const pts = [...s.points].filter((p) => Number.isFinite(p[0])).sort((a, b) => a[0] - b[0]);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    // Split at missing values so a gap is not drawn as a straight line through it.
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${dash} points="${run.join(' ')}"/>`);
      run = [];
    };
    for (const [x, y] of pts) {
      if (Number.isFinite(y)) run.push(`${f(sx(x))},${f(sy(y))}`);
      else flush();
    }
    flush();
    if (pts.length <= MAX_MARKERS) {
      for (const [x, y] of pts) {
        if (!Number.isFinite(y)) continue;
        parts.push(
          `<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="2.6" fill="${s.color}"><title>${escapeHtml(s.name)}: ${y.toFixed(3)} at ${x.toFixed(2)}</title></circle>`,
        );
      }
    }
  }
  const legend = series
    .map((s) => `<span class="key"><span class="swatch${s.dashed ? ' dashed' : ''}" style="border-color:${s.color}"></span>${escapeHtml(s.name)}</span>`)
    .join(' ');
  return (
    `<figure class="chart"><svg viewBox="0 0 ${o.width} ${o.height}" width="100%" role="img" aria-label="${escapeHtml(o.yLabel)} over ${escapeHtml(o.xLabel)}">` +
    parts.join('') +
    `</svg><figcaption class="legend">${legend}</figcaption></figure>`
  );
}

/** Round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function fmtTick(t: number): string {
  return Number.isInteger(t) ? String(t) : String(Number(t.toPrecision(3)));
}
