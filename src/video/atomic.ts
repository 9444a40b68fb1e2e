// Output files appear whole or not at all: everything is written under a temp name in the target's own
// folder (same filesystem, so rename is atomic) and renamed into place when complete.
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { trackTempFile } from './exit-cleanup.js';

let counter = 0;

/**
 * Checks up front that `path` can be created: its folder exists and is writable, and it is not a folder.
 * Throws a UserError otherwise; returns the absolute path.
 */
export async function checkOutputPath(path: string): Promise<string> {
  const abs = resolve(path);
  const dir = dirname(abs);
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new UserError(`cannot write ${path}: folder ${dirname(path)} does not exist`);
  }
  if (!st.isDirectory()) throw new UserError(`cannot write ${path}: ${dirname(path)} is not a folder`);
  // Create and remove a file rather than trust access(): root passes access() even where writes fail
  // (read-only mounts, /proc), and ACLs are not always reflected in mode bits.
  const probe = join(dir, `.saliencam-write-test-${process.pid}-${counter++}`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EROFS' ? 'is on a read-only file system' : code === 'ENOSPC' ? 'is on a full disk' : 'is not writable';
    throw new UserError(`cannot write ${path}: folder ${dirname(path)} ${reason}`);
  }
  await removeQuietly(probe);
  try {
    if ((await stat(abs)).isDirectory()) throw new UserError(`cannot write ${path}: it is a folder`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    // does not exist yet: fine
  }
  return abs;
}

/**
 * Hidden temp name beside `path`: `.<name>.partial-<pid>[-n]<ext>`. The extension is kept so tools that
 * guess a format from the name (ffmpeg) still see it.
 */
export function tempPathFor(path: string): string {
  const abs = resolve(path);
  const n = counter++;
  return join(dirname(abs), `.${basename(abs)}.partial-${process.pid}${n ? `-${n}` : ''}${extname(abs)}`);
}

/** Removes a temp file, ignoring "already gone". */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // nothing to remove
  }
}

/** Writes `data` to `path` atomically (temp file, fsync, rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const target = await checkOutputPath(path);
  const temp = tempPathFor(target);
  const forget = trackTempFile(temp);
  try {
    const fh = await open(temp, 'w');
    try {
      await fh.writeFile(data);
      // Without fsync a crash soon after the rename can leave an empty file under the final name.
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, target);
  } catch (err) {
    await removeQuietly(temp);
    throw asWriteError(path, err);
  } finally {
    forget();
  }
}

/** Turns the filesystem errors a user can fix (full disk, permissions, read-only) into a UserError. */
export function asWriteError(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why: Record<string, string> = {
    ENOSPC: 'disk full or file too large (no space left on device)',
    EDQUOT: 'disk full or file too large (disk quota exceeded)',
    // A file system's or `ulimit -f`'s size limit: to the user the same as a full disk.
    EFBIG: 'disk full or file too large (file size limit exceeded)',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
  };
  return code && why[code] ? new UserError(`cannot write ${path}: ${why[code]}`) : err;
}
