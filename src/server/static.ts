// Serves the built web app from one folder, and nothing outside it: `..` segments (plain or encoded),
// backslashes, NUL bytes and dot-files are refused before the file system is touched, and the real path
// (symlinks resolved) must still lie inside the folder. Of what is in the folder, only the built app goes
// out: the page, its styles, images and the bundle, never its TypeScript sources, tsconfig or source maps.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Folders of web/ that hold the app's sources, not the app. */
const SOURCE_DIRS = new Set(['src', 'node_modules']);

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers every response carries: no sniffing, no framing by other sites, no loading from elsewhere. */
export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export type StaticResult = 'served' | 'not-found' | 'forbidden' | 'bad-request' | 'method';

/** Maps a URL path to a file path inside `root` (already real), or says why it will not. */
export function resolveStaticPath(root: string, urlPath: string): { path: string } | { refuse: 'not-found' | 'forbidden' | 'bad-request' } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { refuse: 'bad-request' };
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return { refuse: 'bad-request' };
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return { refuse: 'forbidden' };
  if (segments.some((s) => s.startsWith('.'))) return { refuse: 'not-found' };
  // Only the built app: a served type (a directory's index.html is checked again when it is resolved).
  const last = segments.at(-1);
  if (SOURCE_DIRS.has(segments[0] ?? '') || (last !== undefined && extname(last) !== '' && !Object.hasOwn(CONTENT_TYPES, extname(last).toLowerCase()))) return { refuse: 'not-found' };
  const rel = segments.length ? segments.join(sep) : 'index.html';
  return { path: join(root, rel) };
}

export async function serveStatic(req: IncomingMessage, res: ServerResponse, root: string): Promise<StaticResult> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, `${req.method ?? '?'} is not allowed`, { Allow: 'GET, HEAD' });
    return 'method';
  }
  const rawPath = (req.url ?? '/').split(/[?#]/)[0]!;
  const resolved = resolveStaticPath(root, rawPath);
  if ('refuse' in resolved) {
    const [code, text] = resolved.refuse === 'forbidden' ? [403, 'forbidden'] : resolved.refuse === 'bad-request' ? [400, 'bad path'] : [404, 'not found'];
    send(res, code, text);
    return resolved.refuse;
  }
  let file = resolved.path;
  try {
    let st = await stat(file);
    if (st.isDirectory()) {
      file = join(file, 'index.html');
      st = await stat(file);
    }
    const real = await realpath(file);
    if (!real.startsWith(root + sep)) {
      send(res, 403, 'forbidden');
      return 'forbidden';
    }
    if (!st.isFile() || !Object.hasOwn(CONTENT_TYPES, extname(real).toLowerCase())) throw new Error('not a file of the app');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': contentTypeOf(real),
      'Content-Length': String(st.size),
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return 'served';
    }
    const stream = createReadStream(real);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return 'served';
  } catch {
    send(res, 404, 'not found');
    return 'not-found';
  }
}

export function send(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${text}\n`;
  res.writeHead(code, { ...SECURITY_HEADERS, ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}
