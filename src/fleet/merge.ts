// A drive's parent job: once every segment is done, join their outputs in frame order into the drive's
// clip, sidecar and audit, check that no frame is missing or doubled, and write the drive's summary.
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { deserialize } from 'node:v8';
import { UserError } from '../errors.js';
import type { ExplainRecord } from '../types.js';
import { locateFfmpeg } from '../video/index.js';
import { openAtomic, writeFileAtomic, type AtomicKind, type AtomicTarget } from '../video/atomic.js';
import { auditSummary, writeAuditJson, writeAuditReport, type AuditReportData, type AuditSummary } from './calls.js';
import { MetricsCollector, type DriveMetrics } from './metrics.js';
import { allowedPath, jobFolders, ownOutput, type DriveFiles } from './paths.js';
import type { DriveJobData } from './settings.js';

export interface DriveSummary {
  drive: string;
  hash: string;
  dir: string;
  segments: number;
  /** Relative to the drive's folder; absent when not made. */
  clip?: string;
  sidecar?: string;
  auditReport?: string;
  auditJson?: string;
  metrics?: DriveMetrics;
  /** The audit's overall rows (one per method, then random), when audited. */
  audit?: AuditSummary['overall'];
  auditDetections?: number;
  warnings: string[];
}

export async function mergeDrive(data: DriveJobData, allow: readonly string[], warnings: string[] = [], empty: ReadonlySet<number> = new Set()): Promise<DriveSummary> {
  const out = await allowedPath(data.out, allow, 'output folder');
  const files = await jobFolders(out, data.dir, allow, false);
  // Segments past the end of a truncated drive made nothing; the ones before make a partial drive.
  const parts = Array.from({ length: data.segments }, (_, i) => i).filter((i) => !empty.has(i));
  if (!parts.length) throw new UserError(`${data.drive}: no frame could be decoded`);
  const n = data.segments;
  const summary: DriveSummary = { drive: data.drive, hash: data.hash, dir: data.dir, segments: n, warnings };
  if (data.settings.export) {
    summary.metrics = await mergeSidecars(files, parts, data.fps ?? 0);
    await concatClips(files, parts);
    Object.assign(summary, { clip: 'drive.mp4', sidecar: 'drive.ndjson' });
  }
  if (data.settings.audit) {
    const merged = await mergeAudits(files, parts, data.drive);
    await writeAuditReport(files.auditReport, merged);
    await writeAuditJson(files.auditJson, merged);
    summary.audit = auditSummary(merged).overall;
    summary.auditDetections = merged.detections.length;
    Object.assign(summary, { auditReport: 'audit.html', auditJson: 'audit.json' });
  }
  await writeFileAtomic(files.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** Writes `path` through an atomic target (video/atomic.ts) that is renamed when `fill` has finished. */
async function atomically(path: string, kind: AtomicKind, fill: (t: AtomicTarget) => Promise<void>): Promise<void> {
  const t = await openAtomic(path, kind);
  try {
    await fill(t);
  } catch (err) {
    await t.discard();
    throw err;
  }
  await t.commit();
}

/**
 * The decoder dates a segment's frames from its seek point, which ffmpeg's rounding can put a fraction of a
 * frame off the drive's own clock: shift each segment so its first frame is at firstFrame / fps again
 * (only by less than half a frame, so a real gap is never papered over).
 */
function clockShift(first: ExplainRecord, fps: number): number {
  if (!(fps > 0) || first.frame === undefined || first.time === undefined) return 0;
  const shift = first.frame / fps - first.time;
  return Math.abs(shift) < 0.5 / fps ? shift : 0;
}

async function mergeSidecars(files: DriveFiles, parts: number[], fps: number): Promise<DriveMetrics> {
  const metrics = new MetricsCollector();
  let last = -1;
  await atomically(files.sidecar, 'file', async ({ fh }) => {
    for (const i of parts) {
      const lines = createInterface({ input: createReadStream(await ownOutput(files.segmentSidecar(i))), crlfDelay: Infinity });
      let shift: number | undefined;
      for await (const line of lines) {
        if (!line) continue;
        const record = JSON.parse(line) as ExplainRecord;
        shift ??= clockShift(record, fps);
        if (shift && record.time !== undefined) record.time = Math.round((record.time + shift) * 1e6) / 1e6;
        const frame = record.frame ?? last + 1;
        // Segments are cut between frames (segments.ts); a gap or an overlap here is a bug, not a drive to ship.
        if (frame !== last + 1) throw new Error(`segment ${i} of ${files.root} starts at frame ${frame}, expected ${last + 1}`);
        last = frame;
        metrics.add(record);
        await fh.write(`${shift ? JSON.stringify(record) : line}\n`);
      }
    }
  });
  return metrics.result();
}

/**
 * Joins the segment clips with ffmpeg's concat demuxer. Its list names the clips relative to the list's own
 * folder (the segments folder) by the names this fleet gives them (segNNNNN.mp4), in its safe mode: no
 * folder name (a newline in the output root's name, say) ever reaches the list, so nothing can be injected.
 */
async function concatClips(files: DriveFiles, parts: number[]): Promise<void> {
  for (const i of parts) await ownOutput(files.segmentClip(i));
  // A temp file created exclusively under a random name, never committed: discarded once ffmpeg has read it.
  const list = await openAtomic(join(files.segmentsDir, 'concat.txt'), 'file');
  try {
    await list.fh.writeFile(parts.map((i) => `file '${files.segmentName(i)}'\n`).join(''));
    await list.fh.sync();
    await atomically(files.clip, 'path', async ({ temp }) => {
      try {
        await promisify(execFile)(locateFfmpeg().ffmpeg, ['-v', 'error', '-nostdin', '-y', '-f', 'concat', '-safe', '1', '-i', list.temp, '-c', 'copy', '-movflags', '+faststart', temp]);
      } catch (err) {
        throw new UserError(`cannot join the segment clips of ${files.root}: ${(err as { stderr?: string }).stderr?.trim().split('\n')[0] ?? String(err)}`);
      }
    });
  } finally {
    await list.discard();
  }
}

async function mergeAudits(files: DriveFiles, indices: number[], drive: string): Promise<AuditReportData> {
  const parts: AuditReportData[] = [];
  for (const i of indices) parts.push(deserialize(await readFile(await ownOutput(files.segmentAudit(i)))) as AuditReportData);
  return mergeAuditParts(parts, drive);
}

/** The segments' audits (in drive order) as one drive's audit: what a single-machine audit of the same frames gives. */
export function mergeAuditParts(parts: readonly AuditReportData[], drive: string): AuditReportData {
  const first = parts[0]!;
  const gallerySize = Math.max(...parts.map((p) => p.gallery.length));
  // Track ids restart in each segment: offset them so tracks of different segments stay apart.
  let offset = 0;
  const detections: AuditReportData['detections'] = [];
  const temporal: AuditReportData['temporal'] = [];
  for (const p of parts) {
    let max = -1;
    for (const d of p.detections) {
      detections.push(d.trackId !== undefined ? { ...d, trackId: d.trackId + offset } : d);
      if (d.trackId !== undefined) max = Math.max(max, d.trackId);
    }
    for (const t of p.temporal) {
      temporal.push({ ...t, trackId: t.trackId + offset });
      max = Math.max(max, t.trackId);
    }
    offset += max + 1;
  }
  return {
    ...first,
    source: drive,
    framesSampled: parts.reduce((s, p) => s + (p.framesSampled ?? 0), 0),
    detections,
    temporal,
    gallery: parts.flatMap((p) => p.gallery).sort((a, b) => a.energyInBoxes - b.energyInBoxes).slice(0, gallerySize),
  };
}
