// Reading what a client sends before anything else runs: the request target and the WebSocket handshake
// headers. Every function here is total (undefined or a refusal, never a throw), because a throw in an
// 'upgrade' or 'request' handler would take the whole process down (issue #13, finding 1).
import type { IncomingMessage } from 'node:http';

export interface Target {
  path: string;
  query: URLSearchParams;
}

/**
 * An origin-form request target (`/path?query`, RFC 9112 §3.2.1) split into its path and query; undefined for
 * anything else (absolute or authority form, `//host/...`, `*`, or what the URL parser refuses).
 */
export function parseTarget(raw: string | undefined): Target | undefined {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//')) return undefined;
  try {
    const u = new URL(raw, 'http://localhost');
    return { path: u.pathname, query: u.searchParams };
  } catch {
    return undefined;
  }
}

export type Refusal = [status: 400 | 401 | 403 | 404 | 405 | 503, text: string, headers?: Record<string, string>];

const WS_KEY = /^[+/0-9A-Za-z]{22}==$/; // ws's own test

/**
 * The parts of the WebSocket handshake ws would refuse with its own bare responses: checked here so that the
 * refusal carries our headers like every other response. Undefined when ws will accept the handshake.
 */
export function handshakeRefusal(req: IncomingMessage): Refusal | undefined {
  if (req.method !== 'GET') return [405, 'a WebSocket handshake is a GET', { Allow: 'GET' }];
  const upgrade = req.headers.upgrade;
  if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') return [400, 'only WebSocket upgrades are accepted'];
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !WS_KEY.test(key)) return [400, 'missing or malformed Sec-WebSocket-Key'];
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return [400, 'unsupported WebSocket version (13 is)', { 'Sec-WebSocket-Version': '13, 8' }];
  // The dashboard negotiates no subprotocol (ws would answer a malformed list with a bare 400); extensions
  // are not negotiated either (perMessageDeflate is off), so ws ignores that header.
  if (req.headers['sec-websocket-protocol'] !== undefined) return [400, 'no WebSocket subprotocol is offered'];
  return undefined;
}
