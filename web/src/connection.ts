// The WebSocket link to the server: JSON messages in and out, each `frame` message paired with the binary
// image that follows it, and a reconnect with back-off when the server goes away.
import type { Command, FrameMessage, ServerMessage } from '../../src/server/messages.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type OutgoingCommand = DistributiveOmit<Command, 'v'>;

export interface ConnectionHandlers {
  message(msg: ServerMessage): void;
  frame(meta: FrameMessage, image: Blob, receivedAt: number): void;
  status(state: 'connecting' | 'open' | 'closed', detail?: string): void;
}

export class Connection {
  private ws: WebSocket | undefined;
  private pendingMeta: { meta: FrameMessage; at: number } | undefined;
  private retryMs = 500;
  private pingTimer: number | undefined;
  private pingSent = new Map<number, number>();
  private nextPing = 1;
  /** Round-trip time of the last ping, ms. */
  rttMs: number | undefined;

  constructor(
    private readonly url: string,
    private readonly handlers: ConnectionHandlers,
  ) {}

  static urlFor(location: Location): string {
    const token = new URLSearchParams(location.search).get('token');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  }

  connect(): void {
    this.handlers.status('connecting');
    const ws = new WebSocket(this.url);
    ws.binaryType = 'blob';
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retryMs = 500;
      this.handlers.status('open');
      this.pingTimer = window.setInterval(() => this.ping(), 2000);
      this.ping();
    };
    ws.onmessage = (ev: MessageEvent<string | Blob>) => this.receive(ev.data);
    ws.onclose = (ev) => {
      window.clearInterval(this.pingTimer);
      this.pendingMeta = undefined;
      // A handshake refused before it opened is most often the server still warming up (it answers 503
      // until the model is loaded; the browser does not say which status it got).
      const why = !opened ? 'server not ready (warming up?), retrying' : ev.code === 1009 ? 'message too big' : ev.reason || `code ${ev.code}`;
      this.handlers.status('closed', why);
      window.setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  send(cmd: OutgoingCommand): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ v: 1, ...cmd }));
  }

  private ping(): void {
    const id = this.nextPing++;
    this.pingSent.set(id, performance.now());
    if (this.pingSent.size > 10) this.pingSent.delete(this.pingSent.keys().next().value!);
    this.send({ type: 'ping', id });
  }

  private receive(data: string | Blob): void {
    if (typeof data !== 'string') {
      const p = this.pendingMeta;
      this.pendingMeta = undefined;
      if (p) this.handlers.frame(p.meta, data, p.at);
      return;
    }
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    if (msg.type === 'frame') {
      this.pendingMeta = { meta: msg, at: performance.now() };
      return;
    }
    if (msg.type === 'pong' && typeof msg.id === 'number') {
      const sent = this.pingSent.get(msg.id);
      if (sent !== undefined) this.rttMs = performance.now() - sent;
      this.pingSent.delete(msg.id);
    }
    this.handlers.message(msg);
  }
}
