// Where a job may read and write. Job payloads come from the network: a drive is opened only inside the
// worker's --allow folders, and every output is a fixed file name inside the job's own folder under --out.
import { realpath } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute, sep } from 'node:path';
import { UserError } from '../errors.js';

export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The real path of `path` if it lies (after symlinks) inside one of `allowed`; a UserError otherwise. */
export async function allowedPath(path: string, allowed: readonly string[], what: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(resolve(path));
  } catch {
    // Missing paths are judged by their name; opening them gives the usual "no such file" later.
    real = resolve(path);
  }
  const roots = await Promise.all(allowed.map(async (d) => realpath(resolve(d)).catch(() => resolve(d))));
  if (!roots.some((root) => isInside(real, root))) throw new UserError(`${what} ${path} is outside the worker's --allow folders (${allowed.join(', ')})`);
  return real;
}

/** Files of one drive's job folder. */
export function driveFiles(out: string, dir: string) {
  const root = join(resolve(out), dir);
  return {
    root,
    clip: join(root, 'drive.mp4'),
    sidecar: join(root, 'drive.ndjson'),
    summary: join(root, 'drive.json'),
    auditReport: join(root, 'audit.html'),
    auditJson: join(root, 'audit.json'),
    segmentClip: (i: number) => join(root, 'segments', `seg${String(i).padStart(5, '0')}.mp4`),
    segmentSidecar: (i: number) => join(root, 'segments', `seg${String(i).padStart(5, '0')}.ndjson`),
    segmentAudit: (i: number) => join(root, 'segments', `seg${String(i).padStart(5, '0')}.audit.v8`),
    segmentsDir: join(root, 'segments'),
  };
}
export type DriveFiles = ReturnType<typeof driveFiles>;
