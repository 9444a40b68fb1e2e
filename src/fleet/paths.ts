// Where a job may read and write. Job payloads come from the network: a drive, a model and the output folder
// are opened only inside the worker's --allow folders, judged after symlinks at every level (the output root,
// the job's folder, its segments folder and each file read back), and every output is a fixed file name
// inside the job's own folder under --out.
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute, sep } from 'node:path';
import { UserError } from '../errors.js';
import { BUILTIN_MODELS } from '../model/registry.js';

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

/** A built-in model's name (never a file); anything else a job names as its model is a path. */
export function isBuiltinModel(model: string): boolean {
  return Object.hasOwn(BUILTIN_MODELS, model);
}

/**
 * The model a worker loads: a built-in name as it is, anything else (a bare name too: it would load from the
 * worker's working folder) only as a real path inside --allow.
 */
export async function allowedModel(model: string, allowed: readonly string[]): Promise<string> {
  return isBuiltinModel(model) ? model : allowedPath(model, allowed, 'model');
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
    segmentName: (i: number) => `seg${String(i).padStart(5, '0')}.mp4`,
    segmentClip: (i: number) => join(root, 'segments', `seg${String(i).padStart(5, '0')}.mp4`),
    segmentSidecar: (i: number) => join(root, 'segments', `seg${String(i).padStart(5, '0')}.ndjson`),
    segmentAudit: (i: number) => join(root, 'segments', `seg${String(i).padStart(5, '0')}.audit.v8`),
    segmentsDir: join(root, 'segments'),
  };
}
export type DriveFiles = ReturnType<typeof driveFiles>;

/**
 * The job's folder under the (already allowed, real) output root, and its segments folder when `segments`:
 * created where missing, one level at a time, each checked after symlinks to be inside --allow before
 * anything is created or written in it. A folder there that is a symlink to elsewhere is refused.
 */
export async function jobFolders(out: string, dir: string, allowed: readonly string[], segments: boolean): Promise<DriveFiles> {
  const files = driveFiles(out, dir);
  for (const folder of segments ? [files.root, files.segmentsDir] : [files.root]) {
    await allowedPath(folder, allowed, 'output folder');
    await mkdir(folder).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw new UserError(`cannot create ${folder}: ${err.code ?? err.message}`);
    });
    // Judged again once it exists: a dangling symlink passes by its name above, and fails here.
    const isFolder = await stat(folder).then((s) => s.isDirectory(), () => false);
    if (!isFolder) throw new UserError(`output folder ${folder} is not a folder`);
    await allowedPath(folder, allowed, 'output folder');
  }
  return files;
}

/**
 * Whether `path` is a file this fleet wrote: a regular file, never a symlink (outputs are renamed into place,
 * so a symlink there was planted, and reading through it would copy a file from elsewhere into the drive).
 */
export async function isOwnOutput(path: string): Promise<boolean> {
  return lstat(path).then((s) => s.isFile(), () => false);
}

/** `isOwnOutput`, or a UserError naming the file. */
export async function ownOutput(path: string): Promise<string> {
  if (!(await isOwnOutput(path))) throw new UserError(`${path}: missing or not a regular file (a symlink is refused)`);
  return path;
}
