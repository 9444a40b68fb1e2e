// Reading what a client sends before anything else runs (the request target), and the answers written
// straight to a socket: refused upgrades, ws's handshake refusals and Node's parser errors, each with our
// headers. Every function here is total (never a throw), because a throw in an 'upgrade' or 'request' handler
// would take the whole process down.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SECURITY_HEADERS } from './static.js';

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

/** A refused upgrade: the status, a one-line text and any headers beyond ours. */
export type Refusal = [status: 400 | 401 | 403 | 404 | 405 | 503, text: string, headers?: Record<string, string>];

/** A whole HTTP response written straight to a socket (no ServerResponse exists for these), then closed. */
export function answerSocket(socket: Duplex, code: number, text: string, extra: Record<string, string> = {}): void {
  const body = `${text}\n`;
  const headers = Object.entries({ ...SECURITY_HEADERS, ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (socket.writable) socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\n${headers}\r\n${body}`);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * ws's own handshake refusal (its 'wsClientError' hook), answered with our headers. ws refuses a method other
 * than GET with 405 and anything else it checks with 400; each 400 names the versions it speaks (RFC 6455 §4.4).
 */
export function handshakeError(err: Error, socket: Duplex, req: IncomingMessage): void {
  socket.on('error', () => socket.destroy());
  if (req.method !== 'GET') answerSocket(socket, 405, err.message, { Allow: 'GET' });
  else answerSocket(socket, 400, err.message, { 'Sec-WebSocket-Version': '13, 8' });
}

/** Node's 'clientError' default, with our headers: 431 for headers too large, 408 for too slow, else 400. */
export function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already on its way (keep-alive) cannot be followed by another; a reset peer reads nothing.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [code, text] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'request headers too large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request timed out'] : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? [413, 'chunk extensions too large'] : [400, 'bad request'];
  answerSocket(socket, code, text);
}
