// One connected page: what is waiting to be sent to it, bounded. At most one message is handed to the
// socket at a time; until the socket has taken it (its write callback), newer frames wait in a small queue
// where the oldest is dropped and counted. A client that stops reading therefore costs a bounded amount
// of memory and never delays the pipeline or the other clients: they are served from the same broadcast,
// each at its own pace.
import type { WebSocket } from 'ws';
import type { FrameMessage, ServerMessage } from './messages.js';

/** A processed frame as broadcast to every client; `dropped` in its stats is filled in per client. */
export interface OutgoingFrame {
  meta: Omit<FrameMessage, 'stats'> & { stats: Omit<FrameMessage['stats'], 'dropped'> };
  image: Buffer;
}

export interface ClientLimits {
  /** Frames waiting per client (1 = the latest frame only). */
  frameQueue: number;
  /** Text messages waiting per client; a client that lets more pile up is disconnected (1008). */
  controlQueue: number;
}

export interface ClientStats {
  id: number;
  /** Frames handed to the socket. */
  sent: number;
  /** Frames replaced by newer ones before they could be sent. */
  dropped: number;
  /** Frames waiting now, and the most that ever waited. */
  queued: number;
  maxQueued: number;
  queueBound: number;
  /** Bytes ws has not yet passed to the kernel. */
  bufferedAmount: number;
}

export class ClientChannel {
  sent = 0;
  dropped = 0;
  maxQueued = 0;
  private readonly frames: OutgoingFrame[] = [];
  private readonly control: string[] = [];
  private busy = false;
  private closed = false;

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    private readonly limits: ClientLimits,
  ) {
    ws.once('close', () => {
      this.closed = true;
      this.frames.length = 0;
      this.control.length = 0;
    });
  }

  /** Queues a text message (replies, state). These are small and never dropped, but bounded. */
  send(message: ServerMessage): void {
    if (this.closed) return;
    if (this.control.length >= this.limits.controlQueue) {
      this.close(1008, 'not reading its messages');
      return;
    }
    this.control.push(JSON.stringify(message));
    this.pump();
  }

  /** Offers a frame; when the client is still busy with older ones, the oldest waiting frame is dropped. */
  offer(frame: OutgoingFrame): void {
    if (this.closed) return;
    this.frames.push(frame);
    while (this.frames.length > this.limits.frameQueue) {
      this.frames.shift();
      this.dropped++;
    }
    this.maxQueued = Math.max(this.maxQueued, this.frames.length);
    this.pump();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
    // A peer that does not answer the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  stats(): ClientStats {
    return {
      id: this.id,
      sent: this.sent,
      dropped: this.dropped,
      queued: this.frames.length,
      maxQueued: this.maxQueued,
      queueBound: this.limits.frameQueue,
      bufferedAmount: this.ws.bufferedAmount,
    };
  }

  private pump(): void {
    if (this.busy || this.closed || this.ws.readyState !== this.ws.OPEN) return;
    const text = this.control.shift();
    if (text !== undefined) {
      this.busy = true;
      this.ws.send(text, (err) => this.written(err));
      return;
    }
    const frame = this.frames.shift();
    if (!frame) return;
    this.busy = true;
    const meta: FrameMessage = { ...frame.meta, stats: { ...frame.meta.stats, dropped: this.dropped } };
    // The metadata and its image go out back to back; the image's callback frees the client for the next.
    this.ws.send(JSON.stringify(meta));
    this.ws.send(frame.image, { binary: true }, (err) => {
      if (!err) this.sent++;
      this.written(err);
    });
  }

  private written(err?: Error | null): void {
    this.busy = false;
    if (err) return; // the socket is closing; 'close' clears the queues
    this.pump();
  }
}
