// HTTP exactly as written: a raw TCP request (no client-side checks or normalisation), and the response's
// status line and headers as the server wrote them. For requests a well-behaved client would refuse to send.
import { connect } from 'node:net';

export interface RawReply {
  /** 0 when the server closed the connection without answering. */
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function rawRequest(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    // An answer to HEAD has no body, whatever its Content-Length says.
    const head = String(request).startsWith('HEAD ');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseReply(Buffer.concat(chunks).toString('latin1')));
    };
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${JSON.stringify(String(request).slice(0, 80))}`));
    }, timeoutMs);
    socket.on('data', (d) => {
      chunks.push(d);
      // An answer with Content-Length is complete once that many body bytes are in, even on a kept-alive socket.
      let text = Buffer.concat(chunks).toString('latin1');
      while (/^HTTP\/1\.[01] 1(?!01)\d\d /.test(text) && text.includes('\r\n\r\n')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
      const end = text.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (end >= 0 && (head || /^HTTP\/1\.1 101 /.test(text) || (len && text.length - end - 4 >= Number(len[1])))) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', () => finish());
    socket.write(request);
  });
}

function parseReply(all: string): RawReply {
  // Interim answers (100 Continue) precede the one that counts.
  let text = all;
  while (/^HTTP\/1\.[01] 1(?!01)\d\d /.test(text) && text.includes('\r\n\r\n')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: end >= 0 ? text.slice(end + 4) : '' };
}

/** A WebSocket handshake request with `target`, plus (or minus: value undefined) some headers. */
export function upgradeRequest(target: string, port: number, headers: Record<string, string | undefined> = {}): string {
  const all: Record<string, string | undefined> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = Object.entries(all)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `GET ${target} HTTP/1.1\r\n${lines}\r\n`;
}

/** The headers every answer of the dashboard carries, its own refusals and Node's parser errors alike. */
export const SECURITY_HEADER_NAMES = ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'content-security-policy'];
