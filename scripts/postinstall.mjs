// npm 11 does not run dependencies' install scripts, so @ffmpeg-installer/@ffprobe-installer never get to
// mark their bundled binaries executable. Do it here (idempotent; silent when they are absent).
import { chmodSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
for (const pkg of ['@ffmpeg-installer/ffmpeg', '@ffprobe-installer/ffprobe']) {
  try {
    const { path } = require(pkg);
    if (path && existsSync(path)) chmodSync(path, statSync(path).mode | 0o111);
  } catch {
    // not installed for this platform: locateFfmpeg() reports it clearly at run time
  }
}
