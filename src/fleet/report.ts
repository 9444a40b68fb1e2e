// `fleet report`: one HTML page and one JSON over every drive of the queue: per drive and overall figures,
// worst drives and frames first, links to each drive's clip and audit report. Everything shown comes from
// jobs in Redis (data from the network): every value is escaped, and links are relative paths only.
import { dirname, join, relative, resolve, sep } from 'node:path';
import { escapeHtml } from '../audit/html.js';
import type { SummaryRow } from '../audit/types.js';
import { writeFileAtomic } from '../video/atomic.js';
import type { WorstFrame } from './metrics.js';
import { BAD_JOB, type FleetStatus } from './status.js';

export interface FleetDriveReport {
  drive: string;
  id: string;
  state: string;
  failedReason?: string;
  warnings: string[];
  frames?: number;
  detections?: number;
  detectionsPerClass?: Record<string, number>;
  energyInBoxes?: number | null;
  /** Links, relative to the report's folder. */
  clip?: string;
  sidecar?: string;
  auditReport?: string;
  audit?: { method: string; detections: number; deletionAuc: number; insertionAuc: number; energyInBoxes: number; pointingHitRate: number }[];
  worstFrames: WorstFrame[];
}

export interface FleetReport {
  createdAt: string;
  overall: {
    drives: number;
    completed: number;
    failed: number;
    frames: number;
    detections: number;
    detectionsPerClass: Record<string, number>;
    /** Mean over drives' maps, weighted by frames. */
    energyInBoxes: number | null;
  };
  /** Worst first: failed, then lowest energy in boxes. */
  drives: FleetDriveReport[];
  /** Over all drives, lowest energy in boxes first. */
  worstFrames: (WorstFrame & { drive: string })[];
}

const mean = (s: { mean: number }): number => s.mean;

export function buildFleetReport(status: FleetStatus, reportDir: string): FleetReport {
  const link = (d: FleetStatus['drives'][number], file?: string): string | undefined => (file ? relativeLink(reportDir, join(resolve(d.out), d.dir, file)) : undefined);
  const drives: FleetDriveReport[] = status.drives.map((d) => {
    const m = d.summary?.metrics;
    const audit = d.summary?.audit?.map((r: SummaryRow) => ({ method: r.method, detections: r.detections, deletionAuc: mean(r.deletionAuc), insertionAuc: mean(r.insertionAuc), energyInBoxes: mean(r.energyInBoxes), pointingHitRate: mean(r.pointingHitRate) }));
    const clip = link(d, d.summary?.clip);
    const sidecar = link(d, d.summary?.sidecar);
    const auditReport = link(d, d.summary?.auditReport);
    return {
      drive: d.drive,
      id: d.id,
      state: d.state,
      ...(d.failedReason ? { failedReason: d.failedReason } : {}),
      warnings: d.summary?.warnings ?? [],
      ...(m ? { frames: m.frames, detections: m.detections, detectionsPerClass: m.detectionsPerClass, energyInBoxes: m.energyInBoxes } : {}),
      // An audit-only drive has no sidecar: its first method's energy in boxes ranks it instead.
      ...(!m && audit?.[0] ? { energyInBoxes: audit[0].energyInBoxes } : {}),
      ...(clip ? { clip } : {}),
      ...(sidecar ? { sidecar } : {}),
      ...(auditReport ? { auditReport } : {}),
      ...(audit ? { audit } : {}),
      worstFrames: m?.worstFrames ?? [],
    };
  });
  const failed = (d: FleetDriveReport): boolean => d.state === 'failed' || d.state === BAD_JOB;
  const rank = (d: FleetDriveReport): number => (failed(d) ? -1 : typeof d.energyInBoxes === 'number' ? d.energyInBoxes : 2);
  drives.sort((a, b) => rank(a) - rank(b) || a.drive.localeCompare(b.drive));
  const perClass: Record<string, number> = {};
  let frames = 0;
  let detections = 0;
  let eSum = 0;
  let eFrames = 0;
  for (const d of drives) {
    frames += d.frames ?? 0;
    detections += d.detections ?? 0;
    for (const [k, v] of Object.entries(d.detectionsPerClass ?? {})) perClass[k] = (perClass[k] ?? 0) + v;
    if (typeof d.energyInBoxes === 'number' && d.frames) {
      eSum += d.energyInBoxes * d.frames;
      eFrames += d.frames;
    }
  }
  return {
    createdAt: new Date().toISOString(),
    overall: {
      drives: drives.length,
      completed: drives.filter((d) => d.state === 'completed').length,
      failed: drives.filter(failed).length,
      frames,
      detections,
      detectionsPerClass: Object.fromEntries(Object.entries(perClass).sort(([a], [b]) => a.localeCompare(b))),
      energyInBoxes: eFrames ? eSum / eFrames : null,
    },
    drives,
    worstFrames: drives
      .flatMap((d) => d.worstFrames.map((f) => ({ ...f, drive: d.drive })))
      .sort((a, b) => a.energyInBoxes - b.energyInBoxes)
      .slice(0, 20),
  };
}

/** A link from the report's folder to `path`: relative, '/'-separated, starting with ./ or ../ so it is only ever a path. */
export function relativeLink(fromDir: string, path: string): string {
  const rel = relative(fromDir, path).split(sep).join('/');
  return rel.startsWith('../') || rel === '..' ? rel : `./${rel}`;
}

/** A relative link as an href: each part percent-encoded, so no ':' is left to start a scheme (javascript:). */
export function hrefOf(link: string): string | undefined {
  return /^\.\.?\//.test(link) ? link.split('/').map(encodeURIComponent).join('/') : undefined;
}

/** Any value as HTML text. */
const t = (v: unknown): string => escapeHtml(String(v ?? '—'));
const num = (v: number | null | undefined, digits = 3): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const a = (link: string | undefined, text: string): string => {
  const href = link ? hrefOf(link) : undefined;
  return href ? `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>` : '';
};

export function renderFleetReport(r: FleetReport): string {
  const o = r.overall;
  const classes = Object.entries(o.detectionsPerClass).map(([k, v]) => `${t(k)} ${t(v)}`).join(' · ') || '—';
  const driveRows = r.drives
    .map((d) => {
      const cls = Object.entries(d.detectionsPerClass ?? {}).map(([k, v]) => `${t(k)} ${t(v)}`).join(', ');
      const note = d.failedReason ? `<span class="bad">${t(d.failedReason)}</span>` : d.warnings.map(t).join('<br>');
      return `<tr><td>${t(d.drive)}</td><td>${t(d.state)}</td><td>${t(d.frames)}</td><td>${t(d.detections)}</td><td>${cls}</td><td>${num(d.energyInBoxes)}</td><td>${[a(d.clip, 'clip'), a(d.sidecar, 'sidecar'), a(d.auditReport, 'audit')].filter(Boolean).join(' · ')}</td><td>${note}</td></tr>`;
    })
    .join('\n');
  const audits = r.drives
    .filter((d) => d.audit?.length)
    .map((d) => `<h3>${t(d.drive)} ${a(d.auditReport, '(full report)')}</h3><table><tr><th>Method</th><th>Detections</th><th>Deletion AUC ↓</th><th>Insertion AUC ↑</th><th>Energy in box ↑</th><th>Pointing ↑</th></tr>${d.audit!.map((x) => `<tr><td>${t(x.method)}</td><td>${t(x.detections)}</td><td>${num(x.deletionAuc)}</td><td>${num(x.insertionAuc)}</td><td>${num(x.energyInBoxes)}</td><td>${num(x.pointingHitRate)}</td></tr>`).join('')}</table>`)
    .join('\n');
  const worst = r.worstFrames.map((f) => `<tr><td>${t(f.drive)}</td><td>${t(f.frame)}</td><td>${num(f.time, 2)}</td><td>${num(f.energyInBoxes)}</td><td>${f.labels.map(t).join(', ')}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>saliencam fleet report</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}.bad{color:#b00020}.meta{color:#555}</style>
</head><body>
<h1>saliencam fleet report</h1>
<p class="meta">${t(r.createdAt)} · ${t(o.drives)} drives (${t(o.completed)} done, ${t(o.failed)} failed) · ${t(o.frames)} frames · ${t(o.detections)} detections · energy in boxes ${num(o.energyInBoxes)}</p>
<p>Detections per class: ${classes}</p>
<h2 id="drives">Drives, worst first</h2>
<table><tr><th>Drive</th><th>State</th><th>Frames</th><th>Detections</th><th>Per class</th><th>Energy in box ↑</th><th>Outputs</th><th>Notes</th></tr>
${driveRows}
</table>
<h2 id="frames">Worst frames (lowest energy in box)</h2>
<table><tr><th>Drive</th><th>Frame</th><th>Time (s)</th><th>Energy in box</th><th>Classes</th></tr>
${worst}
</table>
${audits ? `<h2 id="audits">Audits</h2>\n${audits}` : ''}
<p class="note">Energy in box: the share of each saliency map's mass inside the boxes it explains (1 = all of it), mean over the drive's maps; failed drives first, then the lowest.</p>
</body></html>
`;
}

export async function writeFleetReport(status: FleetStatus, paths: { report?: string; json?: string }): Promise<FleetReport> {
  const dir = dirname(resolve(paths.report ?? paths.json ?? '.'));
  const report = buildFleetReport(status, dir);
  if (paths.report) await writeFileAtomic(paths.report, renderFleetReport(report));
  if (paths.json) await writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
