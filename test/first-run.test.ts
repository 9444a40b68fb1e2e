// The first run of a new user, as the README promises it: a fresh clone in a folder with nothing beside it (no
// ../shared, no SALIENCAM_CLIPS), `npm ci --offline` from the npm cache, `npm start`, then the dashboard page
// and one overlaid frame of the sample drive over the WebSocket. It tests what is committed (git clone of HEAD).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useTmpDir } from './helpers/clips.js';
import { TestClient } from './helpers/ws-client.js';

const run = promisify(execFile);
const repo = resolve('.');
const tmp = useTmpDir('saliencam-first-run-');

/** The environment of a newcomer: no saliencam variables, offline npm. */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };
  for (const key of Object.keys(env)) if (key.startsWith('SALIENCAM_') || key.startsWith('VITEST')) delete env[key];
  delete env['NODE_ENV'];
  return env;
}

describe('first run on a fresh clone', () => {
  it.skipIf(!existsSync(join(repo, '.git')))('npm ci --offline && npm start serves the sample drive', { timeout: 600_000 }, async () => {
    const clone = join(tmp.dir, 'saliencam');
    await run('git', ['clone', '--quiet', repo, clone]);
    expect(existsSync(join(tmp.dir, 'shared'))).toBe(false);
    const env = newcomerEnv();
    await run('npm', ['ci'], { cwd: clone, env, maxBuffer: 32 << 20 });

    // Its own process group, so that stopping npm stops the server under it too.
    const child = spawn('npm', ['start', '--', '--port', '0'], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const url = await new Promise<string>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`npm start printed no URL in 3 min:\n${out}`)), 180_000);
        child.on('exit', (code) => fail(new Error(`npm start exited with ${code}:\n${out}`)));
        child.stdout.on('data', () => {
          const found = /dashboard for (\S+) at (http:\/\/\S+)/.exec(out);
          if (found) {
            clearTimeout(timer);
            ok(found[2]!);
          }
        });
      });
      expect(out).toMatch(/dashboard for test_video\.mp4 at/);

      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>saliencam');

      const ws = await TestClient.connect(`${url.replace(/^http/, 'ws').replace(/\/$/, '')}/ws`);
      const frame = await ws.frame(() => true, { timeoutMs: 120_000 });
      expect(frame.meta.record.width).toBe(1280);
      expect(frame.meta.record.height).toBe(720);
      expect(frame.image.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff])); // a JPEG
      expect(frame.meta.record.detections.some((d) => d.label === 'car')).toBe(true);
      ws.close();
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });
});
