// A WebSocket test client for the dashboard protocol: records every message, pairs each `frame` message
// with the image that follows it, and waits for messages matching a predicate.
import WebSocket from 'ws';
import type { FrameMessage, ServerMessage } from '../../src/server/messages.js';

export interface ReceivedFrame {
  meta: FrameMessage;
  image: Buffer;
  at: number;
}

export class TestClient {
  readonly messages: ServerMessage[] = [];
  readonly frames: ReceivedFrame[] = [];
  /** Binary messages that did not follow a frame message (must stay empty). */
  readonly unpaired: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private pending: FrameMessage | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer;
      if (isBinary) {
        if (this.pending) this.frames.push({ meta: this.pending, image: buf, at: performance.now() });
        else this.unpaired.push(buf);
        this.pending = undefined;
      } else {
        const msg = JSON.parse(buf.toString('utf8')) as ServerMessage;
        if (msg.type === 'frame') this.pending = msg;
        else this.messages.push(msg);
      }
      for (const w of [...this.waiters]) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  static connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message of `type` after index `from` (of `messages`) that matches `pred`. */
  async next<T extends ServerMessage['type']>(
    type: T,
    pred: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    { from = 0, timeoutMs = 10_000 } = {},
  ): Promise<Extract<ServerMessage, { type: T }>> {
    return this.until(() => this.messages.slice(from).find((m): m is Extract<ServerMessage, { type: T }> => m.type === type && pred(m as Extract<ServerMessage, { type: T }>)), timeoutMs, `a ${type} message`);
  }

  /** Resolves with the first frame (received at index >= `from`) matching `pred`. */
  async frame(pred: (f: ReceivedFrame) => boolean = () => true, { from = 0, timeoutMs = 15_000 } = {}): Promise<ReceivedFrame> {
    return this.until(() => this.frames.slice(from).find(pred), timeoutMs, 'a matching frame');
  }

  until<R>(check: () => R | undefined, timeoutMs: number, what: string): Promise<R> {
    return new Promise((resolve, reject) => {
      const tryNow = (): void => {
        const r = check();
        if (r !== undefined) {
          this.waiters.delete(tryNow);
          clearTimeout(timer);
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(tryNow);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(tryNow);
      tryNow();
    });
  }

  close(): void {
    this.ws.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
