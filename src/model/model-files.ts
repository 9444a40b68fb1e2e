// The files of a model folder (model.json, weight shards, metadata.yaml) are named by the model, which may be
// hostile or careless: a name is taken only when it stays inside the model's folder once symlinks are
// resolved, only regular files are read (a FIFO would block, /dev/zero never ends), every read is capped, and
// an error names the file, never what it holds.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { UserError } from '../errors.js';
import { terminalSafe } from '../terminal-text.js';

/** A name from a model file, quoted for an error line (escaped, and short). */
export function quoted(name: string): string {
  const s = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  return terminalSafe(s);
}

/**
 * `name` (a path relative to the model's folder `dir`, as model.json's weightsManifest gives it) resolved
 * inside `dir`. `..` and absolute names are refused by name; a symlink out of the folder once resolved.
 * Returns undefined when the file does not exist (the caller says what is missing).
 */
export function insideModelFolder(dir: string, name: string, what: string): string | undefined {
  if (name === '' || isAbsolute(name) || name.split(/[\\/]/).includes('..') || name.includes('\0')) {
    throw new UserError(`${what} ${quoted(name)} must name a file inside the model's folder (no "..", not absolute)`);
  }
  let real: string;
  try {
    real = realpathSync(join(dir, name));
  } catch {
    return undefined;
  }
  const root = realpathSync(dir);
  if (!real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new UserError(`${what} ${quoted(name)} leads outside the model's folder (through a symlink)`);
  }
  return real;
}

/**
 * The bytes of the regular file `path`, at most `max` of them: a UserError for a folder, a FIFO, a device
 * or a larger file. Opened non-blocking so that a FIFO is refused, not waited on.
 */
export function readRegularFile(path: string, max: number, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new UserError(`${what} ${terminalSafe(path)} missing or unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UserError(`${what} ${terminalSafe(path)} is not a regular file`);
    if (st.size > max) throw new UserError(`${what} ${terminalSafe(path)} is ${st.size} bytes, more than the ${max} it may be (the model declares the sizes)`);
    // One byte more than the size stat gave: a file that grows while read is caught, not read without end.
    const buf = Buffer.alloc(Math.min(st.size + 1, max + 1));
    let got = 0;
    for (let n = 1; n > 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, got);
    if (got > max) throw new UserError(`${what} ${terminalSafe(path)} is more than the ${max} bytes it may be`);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
