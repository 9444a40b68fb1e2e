// Who may talk to the dashboard. By default it listens on loopback only, and a page from another site must
// not be able to drive it: WebSocket upgrades from a foreign Origin are refused, and on loopback the Host
// header must be a loopback name too (otherwise a DNS-rebinding page would pass the same-origin check).
// Any other bind address needs a token, which then stands in for both checks.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { UserError } from '../errors.js';

export const MIN_TOKEN_LENGTH = 16;

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^::ffff:127\./.test(h);
}

export function generateToken(): string {
  return randomBytes(18).toString('base64url');
}

/** Refuses a bind that would expose the dashboard without a token, or with a guessable one. */
export function checkBind(host: string, token: string | undefined): void {
  if (token !== undefined) {
    if (token.length < MIN_TOKEN_LENGTH || !/^[A-Za-z0-9._~-]+$/.test(token)) {
      throw new UserError(`--token must be at least ${MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 . _ ~ - (leave it out to have one generated)`);
    }
    return;
  }
  if (!isLoopbackHost(host)) {
    throw new UserError(`binding ${host} exposes the dashboard beyond this machine: a token is required (--token, or let saliencam serve generate one)`);
  }
}

export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  // Hashing first makes the comparison constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export interface HostHeader {
  /** Lower-case, without brackets for IPv6. */
  name: string;
  port: number | undefined;
}

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A Host header, parsed strictly: a host name (RFC 1123 labels), an IPv4 address or a bracketed IPv6 address,
 * then optionally `:port`, and nothing else (no user info, path, query, fragment, spaces or percent signs,
 * which a URL parser would quietly accept or strip). Undefined when missing or malformed.
 */
export function parseHostHeader(hostHeader: string | undefined): HostHeader | undefined {
  if (typeof hostHeader !== 'string' || hostHeader.length === 0 || hostHeader.length > 260) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(hostHeader);
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) return undefined;
  if (m[1] !== undefined) return isIP(m[1]) === 6 ? { name: m[1].toLowerCase(), port } : undefined;
  const name = m[2]!.toLowerCase();
  if (/^[0-9.]+$/.test(name)) return isIP(name) === 4 ? { name, port } : undefined;
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  if (name.length > 254 || !labels.every((l) => HOST_LABEL.test(l))) return undefined;
  return { name, port };
}

/** An upgrade from a browser must come from a page of this very server (same host and port). */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true; // not a browser: nothing to forge on its behalf
  if (parseHostHeader(hostHeader) === undefined) return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    // The Host is well-formed (above), so the URL parser only normalises it (default port, case).
    return o.host.toLowerCase() === new URL(`http://${hostHeader}`).host.toLowerCase();
  } catch {
    return false;
  }
}
