// Redis from a URL (redis://[user:password@]host:port[/db], rediss:// for TLS). The password is never
// printed: messages show the URL with it masked.
import { Redis } from 'ioredis';
import { oneLine, UserError } from '../errors.js';

export function checkRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--redis ${maskUrl(url)}: not a URL (redis://[:password@]host:port[/db])`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UserError(`--redis ${maskUrl(url)}: use redis:// or rediss://`);
  return u;
}

export function maskUrl(url: string): string {
  return url.replace(/\/\/([^@/]*):([^@/]*)@/, '//$1:***@');
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
