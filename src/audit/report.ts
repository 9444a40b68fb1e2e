// The audit report: one self-contained HTML file (inline CSS, inline SVG charts, images as data URIs),
// so it opens offline and can be attached or archived as is.
import { aggregate, compare, meanCurve, summaryJson } from './aggregate.js';
import { lineChartSvg, type ChartSeries } from './charts.js';
import { escapeHtml, jpegDataUri } from './html.js';
import { labelsJson, labelsSection } from './labels-report.js';
import {
  RANDOM,
  type AuditReportData,
  type AuditReportJson,
  type AuditSummary,
  type Comparison,
  type DetectionAudit,
  type GalleryItem,
  type Spread,
  type SummaryRow,
} from './types.js';

/** Table columns: which SummaryRow field, its heading, and which direction is better. */
const COLUMNS: { key: keyof SummaryRow; head: string; better: 'low' | 'high'; digits: number }[] = [
  { key: 'deletionAuc', head: 'Deletion AUC ↓', better: 'low', digits: 3 },
  { key: 'insertionAuc', head: 'Insertion AUC ↑', better: 'high', digits: 3 },
  { key: 'energyInBoxes', head: 'Energy in box ↑', better: 'high', digits: 3 },
  { key: 'pointingHitRate', head: 'Pointing hit rate ↑', better: 'high', digits: 3 },
  { key: 'maxSensitivity', head: 'Max-sensitivity ↓', better: 'low', digits: 3 },
  { key: 'temporalChange', head: 'Temporal change ↓', better: 'low', digits: 3 },
  { key: 'msPerMap', head: 'ms per map ↓', better: 'low', digits: 1 },
];

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
const RANDOM_COLOR = '#7f7f7f';

export function renderAuditReport(data: AuditReportData): string {
  const summary = aggregate(data.detections, data.temporal, data.methods);
  const title = data.title ?? `saliencam audit: ${data.source}`;
  const tracks = new Set(data.detections.map((d) => d.trackId).filter((t) => t !== undefined)).size;
  const frames = new Set(data.detections.map((d) => d.frame)).size;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">Source <b>${escapeHtml(data.source)}</b> · model <b>${escapeHtml(data.model)}</b> · backend <b>${escapeHtml(data.backend)}</b> · ${escapeHtml(data.createdAt)}</p>
<p class="meta">${data.framesSampled !== undefined ? `${data.framesSampled} frames sampled, ` : ''}${frames} with detections · ${data.detections.length} detections · ${tracks} tracks · methods: ${data.methods.map(escapeHtml).join(', ')}</p>
</header>
<nav><a href="#summary">Summary</a> <a href="#comparisons">Comparisons</a> <a href="#classes">Per class</a> <a href="#timeline">Over the drive</a> <a href="#curves">Curves</a> <a href="#gallery">Worst frames</a>${data.labels ? ' <a href="#labels">Against the labels</a>' : ''} <a href="#settings">Settings</a> <a href="#howto">How to read</a></nav>

<section id="summary">
<h2>Summary</h2>
${summaryTable(summary.overall, false, summary.comparisons)}
<p class="note">Mean and its 95 % interval [low, high] (cluster bootstrap: detections resampled by frame; temporal change: over tracks, weighted by their length); n in grey where it differs from the detection count (temporal change: the number of tracks). <b>Bold</b>: best method in the column. <span class="sig">✓</span>: better than the random-map baseline, the paired difference's interval excluding 0; <span class="worse">tinted</span>: not shown better than random (the interval includes 0, or it is worse). Mean share of the image covered by the boxes (what a uniform map scores on energy in box): ${fmt(summary.overall[summary.overall.length - 1]?.areaInBoxes.mean, 3)}.</p>
</section>

<section id="comparisons">
<h2>Method against method</h2>
${comparisonTable(summary.comparisons)}
</section>

<section id="classes">
<h2>Per class</h2>
${summary.perClass.length ? summaryTable(summary.perClass, true, perClassComparisons(data)) : '<p>No detections.</p>'}
</section>

<section id="timeline">
<h2>Energy in box over the drive</h2>
${timelineChart(data)}
<p class="note">Per sampled frame, the mean over its detections; the dashed line is the random-map baseline.</p>
</section>

<section id="curves">
<h2>Deletion and insertion curves</h2>
${curveCharts(data)}
<p class="note">Mean over detections of the score after each step, divided by the score on the untouched image; the areas under these curves are the AUC columns. Dashed: random maps.</p>
</section>

<section id="gallery">
<h2>Worst frames (lowest energy in box)</h2>
${gallery(data.gallery)}
</section>

${data.sanity ? `<section id="sanity">
<h2>Sanity check (model-parameter randomisation)</h2>
${sanitySection(data.sanity)}
</section>

` : ''}${data.labels ? `<section id="labels">
<h2>Against the labels</h2>
${labelsSection(data.labels, data.methods)}
</section>

` : ''}<section id="settings">
<h2>Settings</h2>
${settingsTable(data)}
</section>

<section id="howto">
<h2>How to read each metric</h2>
${HOWTO}
</section>
<footer>Generated by saliencam audit.</footer>
</body>
</html>
`;
}

/** The JSON result: same data minus the thumbnails, plus the summary table. */
export function toAuditJson(data: AuditReportData): AuditReportJson {
  const { gallery, ...rest } = data;
  const summary: AuditSummary = aggregate(data.detections, data.temporal, data.methods);
  const { labels, ...others } = rest;
  return { ...others, gallery: gallery.map(({ jpeg: _jpeg, ...g }) => g), ...(labels ? { labels: labelsJson(labels) } : {}), summary: summaryJson(summary) };
}

/** Summary row column → the metric its comparisons are made on. */
const COMPARED_AS: Partial<Record<keyof SummaryRow, Comparison['metric']>> = {
  deletionAuc: 'deletionAuc',
  insertionAuc: 'insertionAuc',
  energyInBoxes: 'energyInBoxes',
  pointingHitRate: 'pointingHit',
  maxSensitivity: 'maxSensitivity',
};

function perClassComparisons(data: AuditReportData): Comparison[] {
  const labels = [...new Set(data.detections.map((d) => d.label))];
  return labels.flatMap((label) => compare(data.detections.filter((d) => d.label === label), data.methods).map((c) => ({ ...c, label })));
}

function summaryTable(rows: readonly SummaryRow[], perClass: boolean, comparisons: readonly Comparison[]): string {
  // Best values per column, within each block of rows (all rows, or one class).
  const blocks = new Map<string, SummaryRow[]>();
  for (const r of rows) {
    const k = r.label ?? '';
    blocks.set(k, [...(blocks.get(k) ?? []), r]);
  }
  const head = `<tr>${perClass ? '<th>Class</th>' : ''}<th>Method</th><th>Detections</th>${COLUMNS.map((c) => `<th>${c.head}</th>`).join('')}</tr>`;
  const body: string[] = [];
  for (const [label, block] of blocks) {
    block.forEach((r, i) => {
      const isRandom = r.method === RANDOM;
      const cells = COLUMNS.map((c) => {
        const s = r[c.key] as Spread;
        const others = block.filter((b) => b.method !== RANDOM).map((b) => (b[c.key] as Spread).mean).filter(Number.isFinite);
        const best = c.better === 'low' ? Math.min(...others) : Math.max(...others);
        const classes: string[] = [];
        if (!isRandom && Number.isFinite(s.mean) && s.mean === best && others.length > 1) classes.push('best');
        const metric = COMPARED_AS[c.key];
        const vsRandom = metric && !isRandom ? comparisons.find((x) => x.metric === metric && x.a === r.method && x.b === RANDOM && (x.label ?? '') === label) : undefined;
        if (vsRandom && !vsRandom.aBetter) classes.push('worse');
        // Temporal change is counted over tracks, not detections: always say how many.
        const cell = c.key === 'temporalChange' ? spreadCell(s, c.digits, NaN, 'tracks') : spreadCell(s, c.digits, r.detections);
        return `<td${classes.length ? ` class="${classes.join(' ')}"` : ''}>${cell}${vsRandom?.aBetter ? ' <span class="sig" title="better than random: the difference\'s 95 % interval excludes 0">✓</span>' : ''}</td>`;
      }).join('');
      body.push(
        `<tr${isRandom ? ' class="random"' : ''} data-method="${escapeHtml(r.method)}"${perClass ? ` data-class="${escapeHtml(label)}"` : ''}>` +
          (perClass && i === 0 ? `<th rowspan="${block.length}" scope="rowgroup">${escapeHtml(label)}</th>` : '') +
          `<th scope="row">${escapeHtml(r.method)}</th><td>${r.detections}</td>${cells}</tr>`,
      );
    });
  }
  return `<div class="scroll"><table><thead>${head}</thead><tbody>${body.join('\n')}</tbody></table></div>`;
}

/** Per method: its similarity with the layers after the CAM layer randomised, verdict in words, the cascade. */
function sanitySection(sanity: NonNullable<AuditReportData['sanity']>): string {
  const entries = Object.entries(sanity);
  const sentences = entries.map(([m, r]) =>
    r.passed
      ? `<li><b>${escapeHtml(m)} passes</b>: with the ${r.perLayer.length} layers after the CAM layer randomised, its maps keep a rank correlation of ${fmt(r.similarity, 2)} with the original ones; they depend on what the detector's head computes.</li>`
      : `<li class="worse"><b>${escapeHtml(m)} fails</b>: with the ${r.perLayer.length} layers after the CAM layer randomised, its maps keep a rank correlation of ${fmt(r.similarity, 2)} with the original ones; they do not show what the detector's head does with the features, whatever the head is.</li>`,
  );
  const classes = [...new Set(entries.flatMap(([, r]) => Object.keys(r.perClass)))].sort();
  const head = `<tr><th>Method</th><th>Detections</th><th>Similarity (all randomised)</th>${classes.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}<th>Verdict</th></tr>`;
  const rows = entries.map(
    ([m, r]) =>
      `<tr data-method="${escapeHtml(m)}"><th scope="row">${escapeHtml(m)}</th><td>${r.detections}</td><td>${fmt(r.similarity, 3)}</td>${classes.map((c) => `<td>${fmt(r.perClass[c], 3)}</td>`).join('')}<td>${r.passed ? 'passes' : '<b>fails</b>'}</td></tr>`,
  );
  const layers = entries[0]?.[1].perLayer.map((l) => l.layer) ?? [];
  const cascade = `<tr><th>Randomised down to</th>${entries.map(([m]) => `<th>${escapeHtml(m)}</th>`).join('')}</tr>${layers
    .map((layer, k) => `<tr><th scope="row">${escapeHtml(layer)}</th>${entries.map(([, r]) => `<td>${fmt(r.perLayer[k]?.similarity, 3)}</td>`).join('')}</tr>`)
    .join('\n')}`;
  return `<ul>${sentences.join('')}</ul>
<div class="scroll"><table><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table></div>
<p class="note">Adebayo et al. 2018: the weights of the layers between the CAM layer and the class output are re-initialised one after the other, from the output back (cascading); each method's maps of the same detections are recomputed and compared with the original maps (Spearman rank correlation, 1 = same ranking). A method passes when the similarity with every one of those layers randomised is below 0.5.</p>
<div class="scroll"><table><thead>${cascade.slice(0, cascade.indexOf('</tr>') + 5)}</thead><tbody>${cascade.slice(cascade.indexOf('</tr>') + 5)}</tbody></table></div>`;
}

/** Paired differences a − b with their 95 % intervals; only those whose interval excludes 0 are marked. */
function comparisonTable(comparisons: readonly Comparison[]): string {
  if (comparisons.length === 0) return '<p>No detections.</p>';
  const rows = comparisons.map((c) => {
    const cls = c.significant ? ' class="significant"' : '';
    const verdict = c.significant ? (c.aBetter ? `${escapeHtml(c.a)} better` : `${escapeHtml(c.b)} better`) : 'no significant difference';
    return `<tr${cls} data-a="${escapeHtml(c.a)}" data-b="${escapeHtml(c.b)}" data-metric="${c.metric}"><td>${c.metric}</td><th scope="row">${escapeHtml(c.a)} − ${escapeHtml(c.b)}</th><td>${fmt(c.mean, 3)} <span class="sd">[${fmt(c.ci95[0], 3)}, ${fmt(c.ci95[1], 3)}]</span></td><td>${c.n}</td><td>${verdict}</td></tr>`;
  });
  return `<div class="scroll"><table><thead><tr><th>Metric</th><th>Difference</th><th>Mean [95 % interval]</th><th>n</th><th>Verdict</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></div>
<p class="note">Paired over the detections both methods have, resampled by frame (2000 resamples, seeded). <b>Bold rows</b>: the interval excludes 0 (significant at 95 %); the others are no evidence of a difference.</p>`;
}

function spreadCell(s: Spread, digits: number, detections: number, unit = ''): string {
  if (s.n === 0 || !Number.isFinite(s.mean)) return '<span class="na">—</span>';
  const n = s.n !== detections ? ` <span class="n">${unit ? `${s.n} ${unit}` : `n=${s.n}`}</span>` : '';
  const ci = s.ci95 ? ` <span class="sd">[${fmt(s.ci95[0], digits)}, ${fmt(s.ci95[1], digits)}]</span>` : ` <span class="sd">± ${fmt(s.std, digits)}</span>`;
  return `${fmt(s.mean, digits)}${ci}${n}`;
}

function fmt(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

function timelineChart(data: AuditReportData): string {
  if (data.detections.length === 0) return '<p>No detections.</p>';
  const perFrame = (pick: (d: DetectionAudit) => number | undefined): [number, number][] => {
    const acc = new Map<number, { time: number; sum: number; n: number }>();
    for (const d of data.detections) {
      const v = pick(d);
      if (v === undefined || !Number.isFinite(v)) continue;
      const a = acc.get(d.frame) ?? { time: d.time, sum: 0, n: 0 };
      a.sum += v;
      a.n++;
      acc.set(d.frame, a);
    }
    return [...acc.values()].map((a) => [a.time, a.sum / a.n]);
  };
  const series: ChartSeries[] = data.methods.map((m, i) => ({
    name: m,
    color: PALETTE[i % PALETTE.length]!,
    points: perFrame((d) => d.methods[m]?.energyInBoxes),
  }));
  series.push({ name: RANDOM, color: RANDOM_COLOR, dashed: true, points: perFrame((d) => d.random.energyInBoxes) });
  return lineChartSvg(series, { yLabel: 'energy in box', xLabel: 'time (s)' });
}

function curveCharts(data: AuditReportData): string {
  const chart = (key: 'deletionCurve' | 'insertionCurve', xLabel: string): string => {
    const series: ChartSeries[] = [];
    const add = (name: string, color: string, curve: number[] | undefined, dashed = false): void => {
      if (curve) series.push({ name, color, dashed, points: curve.map((y, i) => [i / (curve.length - 1), y]) });
    };
    data.methods.forEach((m, i) => add(m, PALETTE[i % PALETTE.length]!, meanCurve(data.detections.map((d) => d.methods[m]?.[key]))));
    add(RANDOM, RANDOM_COLOR, meanCurve(data.detections.map((d) => d.random[key])), true);
    if (series.length === 0) return '';
    // Insertion can overshoot 1 (a partly revealed image may score higher than the original).
    const top = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
    return lineChartSvg(series, { width: 560, height: 260, xLabel, yLabel: 'score / unperturbed', yMax: Math.ceil(top * 10) / 10 });
  };
  const del = chart('deletionCurve', 'share of pixels deleted (most salient first)');
  const ins = chart('insertionCurve', 'share of pixels inserted (most salient first)');
  return del || ins ? `<div class="pair">${del}${ins}</div>` : '<p>No curves were kept.</p>';
}

function gallery(items: readonly GalleryItem[]): string {
  if (items.length === 0) return '<p>No thumbnails were supplied.</p>';
  const sorted = [...items].sort((a, b) => a.energyInBoxes - b.energyInBoxes);
  return `<div class="gallery">${sorted
    .map((g) => {
      const caption =
        g.caption ??
        `${g.method} · ${g.label} · frame ${g.frame} (${g.time.toFixed(2)} s) · energy in box ${fmt(g.energyInBoxes, 3)}`;
      return `<figure><img alt="${escapeHtml(caption)}" loading="lazy" src="${jpegDataUri(g.jpeg)}"><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
    })
    .join('\n')}</div>`;
}

function settingsTable(data: AuditReportData): string {
  const { extra, ...main } = data.settings;
  const rows = Object.entries({ ...main, ...(extra ?? {}) }).map(
    ([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(Array.isArray(v) ? v.join(', ') : String(v))}</td></tr>`,
  );
  return `<table class="settings"><tbody>${rows.join('')}</tbody></table>`;
}

const HOWTO = `<dl>
<dt>Deletion AUC (lower is better)</dt>
<dd>Pixels are replaced by the baseline (see settings), most salient first, in equal steps; after each step the detector re-scores the image and the score of the same object (same class, IoU &gt; 0.5, 0 if gone) is divided by its score on the untouched image. The area under that curve over the share of pixels removed (0 to 1, trapezoid rule) is small when the map points at what the detector really uses. Petsiuk et al. 2018 (RISE).</dd>
<dt>Insertion AUC (higher is better)</dt>
<dd>The reverse: start from the blurred image and reveal the original pixels, most salient first. Scores are normalised the same way, so the curve ends at 1 and can exceed it. A large area means the salient pixels alone bring the detection back.</dd>
<dt>Energy in box (higher is better)</dt>
<dd>Share of the map's total mass that lies inside the detection's box (energy-based pointing game, Wang et al. 2020). A map spread evenly scores the box's share of the image, shown under the summary table.</dd>
<dt>Pointing hit rate (higher is better)</dt>
<dd>Share of detections whose map maximum falls inside their box (pointing game, Zhang et al. 2016).</dd>
<dt>Max-sensitivity (lower is better)</dt>
<dd>The map is recomputed on copies of the image with small uniform noise (see settings: samples and radius, as a share of the 0–255 range); the value is the largest ‖map′ − map‖ / ‖map‖ (L2). 0 means the map ignores imperceptible noise. Yeh et al. 2019. A map unrelated to the input scores about 0.7.</dd>
<dt>Temporal change (lower is better)</dt>
<dd>Mean change between the maps of the same tracked object (boxes linked by IoU) on consecutive sampled frames: normalised L1, Σ|a − b| / (Σa + Σb) in [0, 1], or 1 − Pearson correlation in [0, 2] (see settings). With region “box” the maps are compared inside each frame's box of the object, resampled to a fixed grid, so the object's and the camera's motion do not count. Real change in the scene also counts, so compare methods with each other and with the random row, not with 0.</dd>
<dt>ms per map</dt>
<dd>Time to compute one map, as measured by the caller.</dd>
<dt>random</dt>
<dd>The same metrics for maps of uniform random values at the same resolution (seeded, averaged over the seeds in the settings; for temporal change, independent random maps on each frame). A method worth trusting beats this row clearly.</dd>
<dt>ig</dt>
<dd>If present: Integrated Gradients (Sundararajan et al. 2017), a pixel-level reference, pooled to map resolution (absolute value, smoothed) so it is scored like the CAMs.</dd>
</dl>`;

const CSS = `
:root{color-scheme:light;--fg:#1b1f24;--muted:#5b6570;--line:#d7dce1;--bg:#fff;--alt:#f5f7f9}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1440px;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta{color:var(--muted);margin:2px 0}nav{margin:12px 0;display:flex;gap:14px;flex-wrap:wrap}nav a{color:#0b63c5;text-decoration:none}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border:1px solid var(--line);padding:4px 7px;text-align:right;white-space:nowrap}thead th{background:var(--alt);text-align:center}
tbody th{text-align:left;font-weight:600}tr.random{color:var(--muted);background:var(--alt)}
td.best{font-weight:700}td.worse{background:#fdecea}.sd,.n{color:var(--muted);font-size:12px}.na{color:var(--muted)}
.note{color:var(--muted);font-size:13px;max-width:900px}.worse{background:#fdecea}
.sig{color:#2ca02c;font-weight:700}tr.significant{font-weight:700}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}.chart{margin:0}.chart svg{max-width:100%;height:auto}.chart .grid{stroke:#eceff2}.chart .axis{stroke:#9aa3ab}
.chart .tick{font-size:11px;fill:var(--muted)}.chart .label{font-size:12px;fill:var(--fg)}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:13px;margin-top:4px}.key{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:22px;border-top:3px solid}.swatch.dashed{border-top-style:dashed}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
.gallery figure{margin:0;border:1px solid var(--line);border-radius:4px;overflow:hidden;background:var(--alt)}
.gallery img{display:block;width:100%;height:auto}.gallery figcaption{padding:4px 8px;font-size:12px}
table.settings td,table.settings th{text-align:left}dl dt{font-weight:600;margin-top:10px}dl dd{margin:2px 0 0 16px;max-width:900px}
footer{margin-top:32px;color:var(--muted);font-size:12px}
`;
