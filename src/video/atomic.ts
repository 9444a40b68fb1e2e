// Output files appear whole or not at all: everything is written under a temp name in the target's own
// folder (same filesystem, so rename is atomic) and renamed into place when complete. This is the one
// helper every writer uses (`openAtomic`: open → commit | discard).
// Temp names are random and created exclusively (O_EXCL | O_NOFOLLOW, or mkdtemp for folders): a name
// planted in a shared folder (say a symlink to someone else's file) is refused, never written through.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { trackTempFile } from './exit-cleanup.js';

/** Create a new file, never open an existing one or follow a symlink at that name. */
const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

const randomSuffix = (): string => randomBytes(6).toString('hex');

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
  const probe = join(dir, `.saliencam-write-test-${randomSuffix()}`);
  try {
    await (await open(probe, EXCLUSIVE, 0o600)).close();
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
 * What a writer gets from `openAtomic`:
 * - `file`: `temp` is a new empty file `.<name>.partial-<random><ext>` beside the target, open as `fh`;
 *   commit fsyncs and closes it.
 * - `folder`: `temp` is a new empty folder inside a private (0700, mkdtemp) folder beside the target.
 * - `path`: `temp` is a free name inside such a private folder, for a child process (ffmpeg) to create; the
 *   extension is kept so tools that guess a format from the name still see it. Commit fsyncs it.
 */
export type AtomicKind = 'file' | 'folder' | 'path';

export interface AtomicTarget {
  /** The final path (absolute). */
  readonly path: string;
  /** Where to write until commit. */
  readonly temp: string;
  /** The temp file, open for writing (kind `file` only). */
  readonly fh: FileHandle;
  /** Renames the temp into place; on failure discards it and throws (a UserError where the user can act). */
  commit(): Promise<string>;
  /** Closes and removes the temp; idempotent, never throws. */
  discard(): Promise<void>;
}

/**
 * Checks the target's folder (checkOutputPath) and opens the temp of an atomic output. `shown` is the name
 * messages use (the path as the user gave it).
 */
export async function openAtomic(path: string, kind: AtomicKind, o: { shown?: string } = {}): Promise<AtomicTarget> {
  const shown = o.shown ?? path;
  const target = await checkOutputPath(path);
  const dir = dirname(target);
  const name = basename(target);
  let temp: string;
  let box: string | undefined;
  let fh: FileHandle | undefined;
  try {
    if (kind === 'file') {
      temp = join(dir, `.${name}.partial-${randomSuffix()}${extname(name)}`);
      fh = await open(temp, EXCLUSIVE, 0o666);
    } else {
      box = await mkdtemp(join(dir, `.${name}.partial-`));
      temp = join(box, name);
      if (kind === 'folder') await mkdir(temp);
    }
  } catch (err) {
    if (box) await rm(box, { recursive: true, force: true }).catch(() => undefined);
    throw asWriteError(shown, err);
  }
  const forget = trackTempFile(box ?? temp);
  let state: 'open' | 'committed' | 'discarded' = 'open';

  const discard = async (): Promise<void> => {
    if (state !== 'open') return;
    state = 'discarded';
    await fh?.close().catch(() => undefined);
    if (box) await rm(box, { recursive: true, force: true }).catch(() => undefined);
    else await removeQuietly(temp);
    forget();
  };

  return {
    path: target,
    temp,
    get fh(): FileHandle {
      if (!fh) throw new Error(`${shown}: an atomic ${kind} has no file handle`);
      return fh;
    },
    async commit() {
      if (state !== 'open') throw new Error(`${shown} is already ${state}`);
      try {
        // Without fsync a crash soon after the rename can leave an empty file under the final name.
        if (fh) {
          await fh.sync();
          await fh.close();
        } else if (kind === 'path') await syncFile(temp);
        await rename(temp, target);
      } catch (err) {
        await discard();
        throw asWriteError(shown, err);
      }
      state = 'committed';
      if (box) await rmdir(box).catch(() => undefined);
      forget();
      return target;
    },
    discard,
  };
}

/**
 * The end of every output's open → finished | aborted lifecycle, written once: the output's last writes, then
 * the commit. Any failure discards the temp, tells the output it is aborted and rethrows (as a `UserError` where
 * the user can act); what is at the final path is then always whole or absent.
 */
export async function finishAtomic(target: AtomicTarget, lastWrites: () => Promise<void>, o: { shown: string; aborted: () => void }): Promise<string> {
  try {
    await lastWrites();
  } catch (err) {
    o.aborted();
    await target.discard();
    throw asWriteError(o.shown, err);
  }
  try {
    return await target.commit();
  } catch (err) {
    o.aborted();
    throw err;
  }
}

/** fsync a file someone else wrote, opened without following a symlink. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
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
  const t = await openAtomic(path, 'file');
  try {
    await t.fh.writeFile(data);
  } catch (err) {
    await t.discard();
    throw asWriteError(path, err);
  }
  await t.commit();
}

/** Whether anything (a file, folder or symlink, dangling or not) has this name. */
export async function nameTaken(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Turns the filesystem errors a user can fix (full disk, permissions, read-only, a name in the way) into a UserError. */
export function asWriteError(path: string, err: unknown): unknown {
  if (err instanceof UserError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why: Record<string, string> = {
    ENOSPC: 'disk full or file too large (no space left on device)',
    EDQUOT: 'disk full or file too large (disk quota exceeded)',
    // A file system's or `ulimit -f`'s size limit: to the user the same as a full disk.
    EFBIG: 'disk full or file too large (file size limit exceeded)',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    // A name planted where the writer creates its temp or its output: refused, never followed.
    EEXIST: 'a file, folder or symlink is in the way (refused, not overwritten)',
    ELOOP: 'a symlink is in the way (refused, not followed)',
    ENOTDIR: 'a file or symlink is in the way of a folder',
    EISDIR: 'a folder is in the way',
    ENOTEMPTY: 'a folder is in the way',
  };
  return code && why[code] ? new UserError(`cannot write ${path}: ${why[code]}`) : err;
}
