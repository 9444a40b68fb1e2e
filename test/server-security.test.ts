// Who may reach the dashboard and what it will serve: loopback by default, a token for anything else,
// same-origin WebSocket upgrades, loopback Host names (DNS rebinding), and static files confined to their
// folder whatever the URL says.
import { request } from 'node:http';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserError } from '../src/errors.js';
import { run } from '../src/cli/program.js';
import { defaultClip } from '../src/cli/serve.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { isLoopbackHost } from '../src/server/security.js';
import { clipPath, makeTmpDir, TEST_VIDEO } from './helpers/clips.js';
import { stubEngine } from './helpers/stub-engine.js';
import { TestClient } from './helpers/ws-client.js';

const TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eA';

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

/** GET with the path sent exactly as written (no client-side normalisation). */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return TestClient.connect(url, { headers }).then(
    (c) => {
      c.close();
      return 101;
    },
    (err: Error) => Number(/HTTP (\d+)/.exec(err.message)?.[1] ?? 0),
  );
}

describe('static files', () => {
  let server: RunningServer;
  let tmp: { dir: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    tmp = await makeTmpDir('saliencam-web-');
    const web = join(tmp.dir, 'web');
    await mkdir(join(web, 'dist'), { recursive: true });
    await writeFile(join(web, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(web, 'style.css'), 'body{}');
    await writeFile(join(web, 'dist', 'app.js'), 'export {};');
    await writeFile(join(web, 'dist', 'app.js.map'), '{}');
    await writeFile(join(web, '.env'), 'SECRET=1');
    await writeFile(join(tmp.dir, 'outside.txt'), 'TOP SECRET OUTSIDE');
    await symlink(join(tmp.dir, 'outside.txt'), join(web, 'escape.css'));
    server = await startServer({ source: clipPath(TEST_VIDEO), engine: stubEngine(), port: 0, webRoot: web, autoplay: false });
  });
  afterAll(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it('serves the app with the right content types and security headers', async () => {
    const cases: [string, string][] = [
      ['/', 'text/html; charset=utf-8'],
      ['/index.html', 'text/html; charset=utf-8'],
      ['/style.css', 'text/css; charset=utf-8'],
      ['/dist/app.js', 'text/javascript; charset=utf-8'],
      ['/dist/app.js?v=1', 'text/javascript; charset=utf-8'],
    ];
    for (const [path, type] of cases) {
      const r = await get(server.port, path);
      expect(r.status, path).toBe(200);
      expect(r.type, path).toBe(type);
    }
    expect((await get(server.port, '/')).body).toContain('<title>t</title>');
    expect((await get(server.port, '/nope.js')).status).toBe(404);
    expect((await get(server.port, '/dist/app.js.map')).status).toBe(404); // only the built app
    expect((await get(server.port, '/', {}, 'POST')).status).toBe(405);
  });

  it('never serves anything outside its folder', async () => {
    const attempts = [
      '/../outside.txt',
      '/dist/../../outside.txt',
      '/%2e%2e/outside.txt',
      '/%2E%2E/outside.txt',
      '/..%2foutside.txt',
      '/dist/..%2f..%2foutside.txt',
      '/..%5coutside.txt',
      '/dist\\..\\..\\outside.txt',
      '/escape.css', // a symlink pointing out (a served type: only the real path stops it)
      '/.env',
      '/%00',
      '/%E0%A4%A',
      `/${join('..', '..', '..', '..', 'etc', 'passwd')}`,
      '//etc/passwd',
    ];
    for (const path of attempts) {
      const r = await get(server.port, path);
      expect([400, 403, 404], path).toContain(r.status);
      expect(r.body, path).not.toContain('SECRET');
      expect(r.body, path).not.toContain('root:');
    }
    expect((await get(server.port, '/../outside.txt')).status).toBe(403);
    expect((await get(server.port, '/escape.css')).status).toBe(403);
  });

  it('answers only to loopback Host names on a loopback bind (DNS rebinding)', async () => {
    expect((await get(server.port, '/', { Host: `localhost:${server.port}` })).status).toBe(200);
    expect((await get(server.port, '/', { Host: `evil.example:${server.port}` })).status).toBe(403);
    const ws = `ws://127.0.0.1:${server.port}/ws`;
    expect(await upgradeStatus(ws, { Host: `evil.example:${server.port}`, Origin: `http://evil.example:${server.port}` })).toBe(403);
  });

  it('refuses cross-origin WebSocket upgrades and other paths', async () => {
    const ws = `ws://127.0.0.1:${server.port}/ws`;
    expect(await upgradeStatus(ws)).toBe(101); // no Origin: not a browser
    expect(await upgradeStatus(ws, { Origin: `http://127.0.0.1:${server.port}` })).toBe(101);
    expect(await upgradeStatus(ws, { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(ws, { Origin: `http://127.0.0.1:${server.port + 1}` })).toBe(403);
    expect(await upgradeStatus(ws, { Origin: 'null' })).toBe(403);
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/other`)).toBe(404);
  });
});

describe('binding and tokens', () => {
  it('refuses to listen beyond loopback without a token, or with a weak one', async () => {
    const base = { source: clipPath(TEST_VIDEO), engine: stubEngine(), port: 0, autoplay: false };
    await expect(startServer({ ...base, host: '0.0.0.0' })).rejects.toThrow(/token is required/);
    await expect(startServer({ ...base, host: '0.0.0.0' })).rejects.toBeInstanceOf(UserError);
    await expect(startServer({ ...base, host: '0.0.0.0', token: 'short' })).rejects.toThrow(/at least 16/);
    await expect(startServer({ ...base, host: '0.0.0.0', token: 'has spaces and more than 16' })).rejects.toThrow(/--token/);
    expect(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0') || isLoopbackHost('192.168.1.2') || isLoopbackHost('::')).toBe(false);
  });

  it('with a token: no or a wrong token is refused, the right one is let in from any origin', async () => {
    const server = await startServer({ source: clipPath(TEST_VIDEO), engine: stubEngine(), host: '0.0.0.0', port: 0, token: TOKEN, autoplay: false });
    try {
      expect(server.url).toContain(`?token=${TOKEN}`);
      const ws = `ws://127.0.0.1:${server.port}/ws`;
      expect(await upgradeStatus(ws)).toBe(401);
      expect(await upgradeStatus(`${ws}?token=${TOKEN}x`)).toBe(401);
      expect(await upgradeStatus(`${ws}?token=`)).toBe(401);
      expect(await upgradeStatus(`${ws}?token=${TOKEN}`)).toBe(101);
      expect(await upgradeStatus(`${ws}?token=${TOKEN}`, { Origin: 'http://laptop.lan:8080', Host: `laptop.lan:${server.port}` })).toBe(101);
    } finally {
      await server.close();
    }
  });

  it('reports a port in use as a one-line user error', async () => {
    const first = await startServer({ source: clipPath(TEST_VIDEO), engine: stubEngine(), port: 0, autoplay: false });
    try {
      await expect(startServer({ source: clipPath(TEST_VIDEO), engine: stubEngine(), port: first.port, autoplay: false })).rejects.toThrow(new RegExp(`port ${first.port} .* is in use`));
    } finally {
      await first.close();
    }
  });
});

describe('saliencam serve (command line)', () => {
  async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      stderr += String(s);
      return true;
    });
    try {
      const code = await run(['node', 'saliencam', ...args]);
      return { code, stderr };
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
  }

  it('without a source, picks the first video in $SALIENCAM_CLIPS, or says what to do', async () => {
    const tmp = await makeTmpDir();
    try {
      const empty = await cli(['serve'], { SALIENCAM_CLIPS: tmp.dir });
      expect(empty.code).toBe(2);
      expect(empty.stderr).toMatch(/^saliencam: no source given and no video .* in .*: pass one \(`npx saliencam serve drive\.mp4`\)/);
      expect(empty.stderr).toContain('SALIENCAM_CLIPS');
      expect(empty.stderr.trim().split('\n')).toHaveLength(1);
      const missing = await cli(['serve'], { SALIENCAM_CLIPS: join(tmp.dir, 'nope') });
      expect(missing.stderr).toMatch(/clips folder .*nope does not exist/);
      await writeFile(join(tmp.dir, 'b.mp4'), '');
      await writeFile(join(tmp.dir, 'a.mov'), '');
      await writeFile(join(tmp.dir, 'notes.txt'), '');
      expect(await defaultClip(tmp.dir)).toBe(join(tmp.dir, 'a.mov'));
    } finally {
      await tmp.cleanup();
    }
  });

  it('refuses a weak token and a bad port before loading anything', async () => {
    const weak = await cli(['serve', clipPath(TEST_VIDEO), '--host', '0.0.0.0', '--token', 'abc']);
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/--token must be at least 16 characters/);
    const port = await cli(['serve', clipPath(TEST_VIDEO), '--port', '70000']);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/--port must be an integer from 0 to 65535/);
  });
});
