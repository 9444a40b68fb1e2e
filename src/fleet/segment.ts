// One segment job: export and/or audit a stretch of a drive into the drive's job folder. Outputs are written
// under temp names and renamed when whole, so a segment's files exist only when it completed; a segment whose
// files exist (same drive, same settings: the folder name says so) is not done again.
import { readFile, stat } from 'node:fs/promises';
import { serialize } from 'node:v8';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../video/atomic.js';
import { auditSegment, exportSegment, openEngine, type FleetEngine } from './adapter.js';
import { hashFile, stableJson } from './ids.js';
import { allowedModel, allowedPath, isOwnOutput, jobFolders } from './paths.js';
import { segmentWindow } from './segments.js';
import type { FleetSettings, SegmentJobData } from './settings.js';

export interface SegmentResult {
  index: number;
  frames: number;
  skipped: boolean;
  /** The drive broke off inside this segment (truncated file): what decoded was kept. */
  warning?: string;
  /** Nothing decoded: a truncated drive ended before this segment (the merge keeps the segments before). */
  empty?: boolean;
  elapsedMs: number;
}

export interface SegmentContext {
  allow: readonly string[];
  onProgress(done: number, total?: number): void;
  stop?: AbortSignal;
}

/** One engine per process and settings: loading the model costs seconds, a segment often less. */
let cached: { key: string; engine: Promise<FleetEngine> } | undefined;
function engineFor(s: FleetSettings['explain']): Promise<FleetEngine> {
  const key = stableJson(s);
  if (cached?.key !== key) {
    void cached?.engine.then((e) => e.dispose(), () => undefined);
    cached = { key, engine: openEngine(s) };
    cached.engine.catch(() => (cached = undefined));
  }
  return cached.engine;
}

/** Hash of a drive by path, size and mtime: each process hashes a drive once, not once per segment. */
const hashes = new Map<string, string>();
async function checkHash(path: string, expected: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UserError(`${path}: no such file`);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  const hash = hashes.get(key) ?? (await hashFile(path));
  hashes.set(key, hash);
  if (hash !== expected) throw new UserError(`${path}: the file changed since it was added (content hash differs); add it again`);
}

const exists = isOwnOutput;

/**
 * A segment after the first that decodes no frame lies past the end of a truncated drive: the drive partially
 * completes (like the CLI's exit code 3) instead of failing. The first segment decoding nothing is a bad drive.
 */
async function pastTheEnd<T>(data: SegmentJobData, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (data.segment.firstFrame > 0 && err instanceof UserError && /no frame (of .+ )?could be decoded/.test(err.message)) return undefined;
    throw err;
  }
}

export async function runSegment(data: SegmentJobData, ctx: SegmentContext): Promise<SegmentResult> {
  const t0 = performance.now();
  const drive = await allowedPath(data.drive, ctx.allow, 'drive');
  const out = await allowedPath(data.out, ctx.allow, 'output folder');
  await checkHash(drive, data.hash);
  const files = await jobFolders(out, data.dir, ctx.allow, true);
  const i = data.segment.index;
  const s = data.settings;
  const exportDone = s.export && (await exists(files.segmentClip(i))) && (await exists(files.segmentSidecar(i)));
  const auditDone = s.audit !== undefined && (await exists(files.segmentAudit(i)));
  const countFrames = async (): Promise<number> => (s.export ? (await readFile(files.segmentSidecar(i), 'utf8')).split('\n').filter(Boolean).length : 0);
  if ((!s.export || exportDone) && (!s.audit || auditDone)) return { index: i, frames: await countFrames(), skipped: true, elapsedMs: performance.now() - t0 };
  // Any model but a built-in one is read by the worker: only from inside its --allow folders.
  const model = await allowedModel(s.explain.model, ctx.allow);
  const engine = await engineFor({ ...s.explain, model });
  const window = segmentWindow(data.segment);
  const total = data.segment.frames;
  let frames = 0;
  let warning: string | undefined;
  if (exportDone) frames = await countFrames();
  else if (s.export) {
    const summary = await pastTheEnd(data, () => exportSegment(engine, {
      input: drive,
      output: files.segmentClip(i),
      sidecar: files.segmentSidecar(i),
      ...window,
      every: s.every,
      render: s.render,
      ...(ctx.stop ? { stop: ctx.stop } : {}),
      onFrame: (done) => ctx.onProgress(done, total),
    }));
    if (!summary) return { index: i, frames: 0, skipped: false, empty: true, warning: 'no frame decoded: the drive ends before this segment (truncated?)', elapsedMs: performance.now() - t0 };
    if (summary.interrupted) throw new Error('segment interrupted before its end'); // retried, never kept as whole
    frames = summary.frames;
    warning = summary.warning;
  }
  if (s.audit && !auditDone) {
    const audited = await auditSegment(engine, {
      input: drive,
      ...window,
      settings: s.audit,
      explain: s.explain,
      ...(ctx.stop ? { stop: ctx.stop } : {}),
      onFrame: (done) => ctx.onProgress(done, total ? Math.ceil(total / s.audit!.every) : undefined),
    });
    if (ctx.stop?.aborted) throw new Error('segment interrupted before its end');
    if (!audited.complete) warning ??= `input ended early${audited.decodeError ? ` (${audited.decodeError})` : ''}`;
    // v8 keeps the gallery's JPEG bytes, which the audit's JSON drops; the drive's merge needs them.
    await writeFileAtomic(files.segmentAudit(i), serialize(audited.data));
  }
  return { index: i, frames, skipped: false, ...(warning ? { warning } : {}), elapsedMs: performance.now() - t0 };
}
