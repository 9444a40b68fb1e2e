// Writes the report files whole or not at all: a temp name in the same directory, then rename.
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { renderAuditReport, toAuditJson } from './report.js';
import type { AuditReportData } from './types.js';

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EISDIR' || code === 'ENOSPC' || code === 'EROFS') {
      throw new UserError(`cannot write ${path}: ${code}`);
    }
    throw err;
  }
}

/** The self-contained HTML report. */
export async function writeAuditReport(path: string, data: AuditReportData): Promise<void> {
  await writeFileAtomic(path, renderAuditReport(data));
}

/** The JSON result (report data minus images, plus the summary table; NaN becomes null). */
export async function writeAuditJson(path: string, data: AuditReportData): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(toAuditJson(data), null, 2)}\n`);
}
