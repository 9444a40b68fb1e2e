// Generative fuzzing of everything a client can send the dashboard server: request targets,
// headers and WebSocket upgrade requests as raw bytes, and WebSocket messages. Every case must get an answer
// with a documented status (README, "Security") or error code (README, "WebSocket protocol"), carrying the
// security headers, never `internal`; and after each property a fresh client is still served. The server
// runs with the stub engine (the subject is the server), so the whole file takes seconds, not minutes; each
// property is also capped in time so that a slow shared machine cannot stretch it.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode, ServerMessage } from '../src/server/messages.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';
import { rawRequest, SECURITY_HEADER_NAMES, upgradeRequest } from './helpers/raw-http.js';
import { stubEngine } from './helpers/stub-engine.js';
import { TestClient } from './helpers/ws-client.js';

const TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eA';
/** Statuses the README documents for plain requests and for upgrade requests. */
const HTTP_STATUSES = [200, 400, 403, 404, 405, 408, 413, 417, 431];
const UPGRADE_STATUSES = [101, 400, 401, 403, 404, 405, 408, 413, 431, 503];
const ERROR_CODES: ErrorCode[] = ['bad_json', 'bad_message', 'unsupported_version', 'unknown_command', 'binary_not_accepted', 'bad_value', 'not_available', 'rate_limited'];
/** Per property: at most this many cases, and no new case after this long. */
const RUNS = 1500;
const TIME_LIMIT_MS = 10_000;

// Characters that matter to URL, path and header parsing, plus a few that should never appear at all.
const TARGET_CHARS = [...'/%.\\?#[]:@!$&\'()*+,;=~-_azAZ09 ', '\t', '\0', '\x7f', '\r', '\n', 'é', '😀', '%2e', '%2f', '%5c', '%00', '..', '//', 'ws', 'token='];
const targetArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...TARGET_CHARS), maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...TARGET_CHARS), maxLength: 40 }).map((s) => `/${s}`),
  fc.webPath(),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

const HEADER_NAMES = ['Host', 'Origin', 'Upgrade', 'Connection', 'Content-Length', 'Transfer-Encoding', 'Expect', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions', 'Cookie', 'X-Forwarded-Host'];
const headerNameArb = fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.string({ unit: fc.constantFrom(...'abcXYZ-_.!~ :\t@'.split('')), minLength: 1, maxLength: 12 }));
const headerValueArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'abc09 .:/[]@%?#-_,;=\t\\'.split(''), '\0', '\x7f', 'é', '\r\n', 'localhost', '127.0.0.1', '[::1]', 'websocket', 'Upgrade', '13', 'chunked', '100-continue'), maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.nat().map(String),
);
const headersArb = fc.array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 6 });
const methodArb = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'CONNECT', 'get', 'BREW'), fc.string({ unit: fc.constantFrom(...'AGZ -/'.split('')), minLength: 1, maxLength: 8 }));

function request(method: string, target: string, version: string, headers: [string, string][], port: number, withHost: boolean): string {
  const lines = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `${method} ${target} ${version}\r\n${withHost ? `Host: 127.0.0.1:${port}\r\n` : ''}${lines}Connection: close\r\n\r\n`;
}
const versionArb = fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 x', '');

function checkAnswer(r: { status: number; headers: Record<string, string> }, allowed: number[], what: string): void {
  if (!allowed.includes(r.status)) throw new Error(`${what}: status ${r.status}`);
  if (r.status !== 101) for (const h of SECURITY_HEADER_NAMES) if (!r.headers[h]) throw new Error(`${what}: status ${r.status} without ${h}`);
}

async function freshClientServed(url: string): Promise<void> {
  const c = await TestClient.connect(url);
  try {
    await c.next('hello');
  } finally {
    c.close();
  }
}

describe('fuzzing the dashboard server (stub engine)', () => {
  let server: RunningServer;
  let tokenServer: RunningServer;
  const counts: Record<string, number> = {};

  beforeAll(async () => {
    const base = { source: clipPath(TEST_VIDEO), autoplay: false, port: 0, maxFps: 10, limits: { commandsPerSecond: 1e6, maxClients: 32 } } as const;
    server = await startServer({ ...base, engine: stubEngine() });
    tokenServer = await startServer({ ...base, engine: stubEngine(), host: '0.0.0.0', token: TOKEN });
  });
  afterAll(async () => {
    console.log(`fuzz cases run: ${JSON.stringify(counts)}`);
    await server?.close();
    await tokenServer?.close();
  });

  it('request targets, methods and headers: a documented status with the security headers, every time', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(methodArb, targetArb, versionArb, headersArb, fc.boolean(), fc.boolean(), async (method, target, version, headers, token, withHost) => {
        n++;
        const s = token ? tokenServer : server;
        const r = await rawRequest(s.port, request(method, target, version, headers, s.port, withHost));
        checkAnswer(r, HTTP_STATUSES, `${method} ${JSON.stringify(target)} ${JSON.stringify(headers)}`);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
    counts['http'] = n;
    expect(n).toBeGreaterThan(200);
    await freshClientServed(`ws://127.0.0.1:${server.port}/ws`);
  });

  it('upgrade requests: a documented status (101 or a refusal with the security headers), every time', async () => {
    const port = () => server.port;
    const queryArb = fc.oneof(
      fc.constant(''),
      fc.constantFrom(`?token=${TOKEN}`, `?token=${TOKEN}&token=${TOKEN}`, '?token=', '?token', `?TOKEN=${TOKEN}`, `?token=${TOKEN}x`, `?token=${TOKEN}#x`, `?a=1&token=${TOKEN}`),
      fc.string({ unit: fc.constantFrom(...TARGET_CHARS), maxLength: 20 }).map((s) => `?${s}`),
    );
    const pathArb = fc.oneof(fc.constantFrom('/ws', '/ws/', '/WS', '//ws', '/./ws', '/%77s', 'ws', '*', 'http://127.0.0.1/ws'), targetArb);
    const hostArb = fc.oneof(fc.constantFrom('127.0.0.1', 'localhost', '[::1]', 'evil.example', 'localhost@evil', 'localhost/x', '127.0.0.1:1:2', ''), headerValueArb);
    const overrideArb = fc.record(
      {
        Host: hostArb,
        Origin: fc.oneof(fc.constantFrom('http://127.0.0.1', 'null', 'http://evil.example', 'file://'), headerValueArb),
        Upgrade: fc.oneof(fc.constantFrom('websocket', 'WebSocket', 'h2c', ''), headerValueArb),
        'Sec-WebSocket-Key': fc.oneof(fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', 'short', ''), headerValueArb),
        'Sec-WebSocket-Version': fc.oneof(fc.constantFrom('13', '8', '12', '', '13, 8'), headerValueArb),
        'Sec-WebSocket-Protocol': fc.oneof(fc.constantFrom('chat', 'a,,b', ''), headerValueArb),
      },
      { requiredKeys: [] },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD'), pathArb, queryArb, overrideArb, fc.boolean(), async (method, path, query, override, token) => {
        n++;
        const s = token ? tokenServer : server;
        const withPort = { ...override, ...(override.Host !== undefined && /^[\w.[\]:]+$/.test(override.Host) && !override.Host.includes(':') ? { Host: `${override.Host}:${s.port}` } : {}) };
        const text = upgradeRequest(`${path}${query}`, s.port, withPort).replace(/^GET /, `${method} `);
        const r = await rawRequest(s.port, text);
        // A plain request that merely carries a broken Upgrade header is a plain request to Node.
        checkAnswer(r, [...new Set([...UPGRADE_STATUSES, ...HTTP_STATUSES])], `${JSON.stringify(text)}`);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
    counts['upgrade'] = n;
    expect(n).toBeGreaterThan(200);
    await freshClientServed(`ws://127.0.0.1:${port()}/ws`);
    await freshClientServed(`ws://127.0.0.1:${tokenServer.port}/ws?token=${TOKEN}`);
  });

  it('WebSocket messages: a documented error code or the command done, never internal, the connection kept', async () => {
    const c = await TestClient.connect(`ws://127.0.0.1:${server.port}/ws`);
    let closed: { code: number; reason: string } | undefined;
    void c.closed.then((x) => (closed = x));
    await c.next('hello');
    const types = ['play', 'pause', 'step', 'seek', 'loop', 'set', 'ping', 'stats', 'hello', 'frame', 'constructor', '__proto__', 'toString', ''];
    const fieldArb = fc.dictionary(
      fc.oneof(fc.constantFrom('time', 'frame', 'direction', 'on', 'method', 'colormap', 'alpha', 'perDetection', 'hiddenClasses', 'view', 'boxes', 'id', 'reset', '__proto__', 'constructor'), fc.string({ maxLength: 8 })),
      fc.oneof(
        fc.constantFrom(0, 1, -1, 0.5, 1e9, -0, 1e308, 'xgradcam', 'polycam', 'jet', 'grid', 'car', true, false, null, [], {}),
        fc.jsonValue({ maxDepth: 3 }),
      ),
      { maxKeys: 4 },
    );
    const commandArb = fc
      .record({ v: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 2 })), type: fc.oneof(fc.constantFrom(...types), fc.string({ maxLength: 10 })) }, { requiredKeys: [] })
      .chain((head) => fieldArb.map((fields) => JSON.stringify({ ...fields, ...head })));
    const messageArb = fc.oneof(
      { arbitrary: commandArb, weight: 6 },
      { arbitrary: fc.json({ maxDepth: 4 }), weight: 2 },
      { arbitrary: fc.string({ maxLength: 60 }), weight: 1 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
      { arbitrary: fc.nat({ max: 30_000 }).map((d) => `{"v":${'['.repeat(d)}${']'.repeat(d)},"type":"ping"}`), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), weight: 1 },
    );
    let n = 0;
    let pingId = 0;
    await fc.assert(
      fc.asyncProperty(messageArb, async (message) => {
        n++;
        const from = c.messages.length;
        if (Buffer.isBuffer(message)) c.ws.send(message, { binary: true });
        else c.ws.send(message);
        // A ping after it: everything the message caused has arrived once its pong has (one ordered socket).
        const id = ++pingId;
        c.send({ v: 1, type: 'ping', id });
        await c.next('pong', (p) => p.id === id, { from, timeoutMs: 10_000 });
        for (const m of c.messages.slice(from) as ServerMessage[]) {
          if (m.type === 'error' && !ERROR_CODES.includes(m.code)) throw new Error(`${JSON.stringify(String(message).slice(0, 200))}: error ${m.code}: ${m.message}`);
          if (m.type === 'error' && m.message.length > 400) throw new Error(`unbounded error message (${m.message.length} chars)`);
        }
        if (closed) throw new Error(`connection closed (${closed.code} ${closed.reason}) after ${JSON.stringify(String(message).slice(0, 200))}`);
        c.messages.length = 0; // keep the record small over thousands of cases
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
    c.close();
    counts['ws'] = n;
    expect(n).toBeGreaterThan(200);
    await freshClientServed(`ws://127.0.0.1:${server.port}/ws`);
  });
});
