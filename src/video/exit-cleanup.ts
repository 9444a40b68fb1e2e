// Last-resort cleanup when the process exits without closing what it opened: our ffmpeg children run in
// their own process group (see run-ffmpeg.ts), so nobody else would stop them, and unfinished temp files
// would be left behind. Only synchronous work is possible in an 'exit' handler.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const children = new Set<ChildProcess>();
const tempFiles = new Set<string>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const child of children) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const path of tempFiles) {
      try {
        // recursive: a FiftyOne export is a temp folder, not a file.
        rmSync(path, { recursive: true, force: true });
      } catch {
        // already renamed or removed
      }
    }
  });
}

/** Kill `child` if the process exits while it still runs; returns the function that forgets it. */
export function trackChild(child: ChildProcess): () => void {
  install();
  children.add(child);
  const forget = (): void => {
    children.delete(child);
  };
  child.once('exit', forget);
  return forget;
}

/** Delete `path` (a file or a folder) if the process exits before it was renamed into place; returns the function that forgets it. */
export function trackTempFile(path: string): () => void {
  install();
  tempFiles.add(path);
  return () => {
    tempFiles.delete(path);
  };
}
