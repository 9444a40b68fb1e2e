// Validation of what clients send. Every command is a strict schema: unknown fields are refused, so nothing
// a client sends can name a file, a path or a shell word; numbers are finite and bounded.
import { COMMAND_SCHEMAS, COMMAND_TYPES, PROTOCOL_VERSION, type Command } from './commands.js';
import type { ErrorCode } from './messages.js';

/** Larger messages close the connection with 1009 (ws enforces it while reading). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export type ParseResult = { ok: true; command: Command } | { ok: false; code: ErrorCode; message: string; command?: string };

/** Turns one WebSocket message into a command, or says precisely what is wrong with it. */
export function parseCommand(data: Buffer | string, isBinary: boolean): ParseResult {
  if (isBinary) return { ok: false, code: 'binary_not_accepted', message: 'commands are JSON text messages; binary messages are not accepted' };
  let raw: unknown;
  try {
    raw = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch (err) {
    return { ok: false, code: 'bad_json', message: `not valid JSON (${shorten(err instanceof Error ? err.message : String(err), 120)})` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: 'bad_message', message: 'a command is a JSON object {"v":1,"type":...}' };
  }
  const obj = raw as Record<string, unknown>;
  const type = typeof obj['type'] === 'string' ? shorten(obj['type']) : undefined;
  if (type === undefined) return { ok: false, code: 'bad_message', message: 'missing "type" (a string)' };
  if (obj['v'] !== PROTOCOL_VERSION) {
    return { ok: false, code: 'unsupported_version', message: `protocol version ${describe(obj['v'])} is not supported; this server speaks v${PROTOCOL_VERSION}`, command: type };
  }
  if (!Object.hasOwn(COMMAND_SCHEMAS, type)) {
    return { ok: false, code: 'unknown_command', message: `unknown command "${type}" (known: ${COMMAND_TYPES.join(', ')})`, command: type };
  }
  const result = COMMAND_SCHEMAS[type as keyof typeof COMMAND_SCHEMAS].safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${shorten(issue.path.join('.'))}: ` : '';
    // zod's messages may list the client's own keys ("Unrecognized key(s)..."): bounded like everything echoed.
    return { ok: false, code: 'bad_message', message: `${type}: ${where}${shorten(issue?.message ?? 'invalid', 200)}`, command: type };
  }
  return { ok: true, command: result.data as Command };
}

// Error replies quote what the client sent, but never more than a few dozen characters of it, and never by
// serialising it whole (a deeply nested value would overflow the stack).
function shorten(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A client's value in a few words: primitives quoted (shortened), containers only named. */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(shorten(value));
  return shorten(String(value));
}

/** Token bucket: at most `perSecond` commands on average, bursts up to twice that. */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond * 2;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.perSecond * 2, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
