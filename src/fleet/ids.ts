// Job ids from content, not from names: the same bytes with the same settings are the same job wherever and
// however often they are added (BullMQ ignores an add whose id exists), and any change of settings is a new one.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { UserError } from '../errors.js';
import type { FleetSettings } from './settings.js';

/**
 * sha256 of a file's bytes, hex. Only a regular file is read: it is opened without blocking and checked
 * before the first read, so a FIFO or a device named like a drive is refused instead of waited on forever.
 */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = await fh.stat();
    if (st.isDirectory()) throw new UserError(`${path} is a folder`);
    if (!st.isFile()) throw new UserError(`${path}: not a regular file (a pipe or a device is not a drive)`);
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${path}: no such file` : code === 'EISDIR' ? `${path} is a folder` : `${path}: cannot read (${code ?? 'error'})`);
  } finally {
    await fh?.close().catch(() => undefined);
  }
  return hash.digest('hex');
}

/** JSON with sorted keys, so equal settings hash equally whatever order they were built in. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function settingsHash(settings: FleetSettings): string {
  return createHash('sha256').update(stableJson(settings)).digest('hex');
}

/** BullMQ job id of a drive (the flow's parent). No ':' (BullMQ's key separator). */
export function driveJobId(fileHash: string, settings: FleetSettings): string {
  return `drive-${fileHash.slice(0, 24)}-${settingsHash(settings).slice(0, 12)}`;
}

export function segmentJobId(driveId: string, index: number): string {
  return `${driveId}-seg${index}`;
}

/** Output folder name of a drive: readable (the file's name) and unique (hash + settings). */
export function driveDirName(drive: string, fileHash: string, settings: FleetSettings): string {
  const stem = basename(drive, extname(drive)).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '').slice(0, 60) || 'drive';
  return `${stem}-${fileHash.slice(0, 12)}-${settingsHash(settings).slice(0, 8)}`;
}

/** Whether `id` has the form driveJobId gives (segment ids add `-seg<n>`). */
export function isDriveJobId(id: string): boolean {
  return /^drive-[0-9a-f]{24}-[0-9a-f]{12}$/.test(id);
}
