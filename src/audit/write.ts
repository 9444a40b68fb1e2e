// Writes the report files whole or not at all, through the one atomic writer (temp name, fsync, rename).
import { writeFileAtomic } from '../video/atomic.js';
import { renderAuditReport, toAuditJson } from './report.js';
import type { AuditReportData } from './types.js';

export { writeFileAtomic };

/** The self-contained HTML report. */
export async function writeAuditReport(path: string, data: AuditReportData): Promise<void> {
  await writeFileAtomic(path, renderAuditReport(data));
}

/** The JSON result (report data minus images, plus the summary table; NaN becomes null). */
export async function writeAuditJson(path: string, data: AuditReportData): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(toAuditJson(data), null, 2)}\n`);
}
