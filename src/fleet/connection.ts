// Redis from a URL (redis://[user:password@]host:port[/db], rediss:// for TLS). The password is never
// printed: messages show the URL rebuilt from what ioredis parses (WHATWG URL: user info up to the last '@',
// every query field becomes an option, `?password=` included) with the password and every query value masked;
// a URL that does not parse is never shown at all.
import { Redis } from 'ioredis';
import { oneLine, UserError } from '../errors.js';

const USAGE = 'redis://[:password@]host:port[/db]';

export function checkRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--redis: not a URL (${USAGE}); the URL given is not shown, it may hold a password`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UserError(`--redis ${maskUrl(url)}: use redis:// or rediss://`);
  // ioredis takes the path as the database number: anything else is a mistyped URL (a password with a '/'?).
  if (!/^\/?\d*$/.test(u.pathname)) throw new UserError(`--redis ${maskUrl(url)}: the path must be a database number (${USAGE}; percent-encode a password's '/', '?', '#' and '@')`);
  return u;
}

/** The URL as messages show it: rebuilt from its parsed parts, no password, no query value. */
export function maskUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(the URL given, not shown)';
  }
  const user = u.username || u.password ? `${u.username}${u.password ? ':***' : ''}@` : '';
  const db = /^\/\d+$/.test(u.pathname) ? u.pathname : '';
  const query = [...u.searchParams.keys()].map((k) => `${k}=***`).join('&');
  return `${u.protocol}//${user}${u.host}${db}${query ? `?${query}` : ''}`;
}

/**
 * BullMQ connection options. Workers wait out an outage (no per-command retry limit: BullMQ's blocking
 * commands must not fail, ioredis reconnects and BullMQ resumes); short commands fail fast instead.
 */
export function connectionOptions(url: string, longLived: boolean) {
  checkRedisUrl(url);
  return longLived ? { url, maxRetriesPerRequest: null } : { url, maxRetriesPerRequest: 1, enableOfflineQueue: true };
}

/** Fails with one line when Redis cannot be reached or refuses the password, before anything else runs. */
export async function checkRedis(url: string): Promise<void> {
  checkRedisUrl(url);
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  // connect() only says "Connection is closed"; the cause (refused, bad password) comes as an 'error' event.
  let cause: Error | undefined;
  client.on('error', (err: Error) => (cause ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const msg = oneLine(cause ?? err);
    const why = /NOAUTH|WRONGPASS|invalid password/i.test(msg) ? 'wrong or missing password' : msg;
    throw new UserError(`cannot reach Redis at ${maskUrl(url)}: ${why}`);
  } finally {
    client.disconnect();
  }
}
