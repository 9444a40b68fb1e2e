// `saliencam serve` from source in a child process (no `npm run build` of dist/ needed), and the web app
// rebuilt when stale: for the tests that drive the dashboard in Chromium.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Rebuilds web/dist when any web source is newer than the bundle. */
export function buildWebIfStale(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  let built = 0;
  try {
    built = statSync('web/dist/app.js').mtimeMs;
  } catch {
    // not built yet
  }
  if (built < Math.max(newest('web/src'), statSync('src/server/messages.ts').mtimeMs)) {
    execFileSync(process.execPath, ['scripts/build-web.mjs'], { stdio: 'inherit' });
  }
}

/** Starts `serve` and resolves with the URL it prints. */
export function serveCli(args: string[], timeoutMs = 240_000): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in ${timeoutMs / 1000} s:\n${out}`)), timeoutMs);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
    child.stdout!.on('data', () => {
      const url = /dashboard for .* at (http:\/\/\S+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, output: () => out });
      }
    });
  });
}
