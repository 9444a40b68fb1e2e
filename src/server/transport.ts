// The transport: one node:http server on one port for the web app (static files) and the WebSocket endpoint
// `/ws`. It guards the door (Host, token or Origin, client count; ws checks the handshake itself), gives each
// client its own bounded queue (client.ts), validates what clients send (protocol.ts), answers `ping` and
// `stats` itself and hands every other command to the session it serves. It knows nothing of methods, settings
// or sources: those are the session's (player.ts). Until a session is attached, upgrades are answered 503.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { UserError, oneLine } from '../errors.js';
import { ClientChannel, type ClientLimits, type ClientStats, type OutgoingFrame } from './client.js';
import type { Command, ErrorCode, ServerMessage } from './messages.js';
import { LoopDelayMonitor, type LoopDelay } from './loop-delay.js';
import { MAX_MESSAGE_BYTES, RateLimiter, parseCommand } from './protocol.js';
import { isLoopbackHost, originAllowed, parseHostHeader, tokenMatches } from './security.js';
import { send, serveStatic } from './static.js';
import { answerSocket, clientError, handshakeError, parseTarget, type Refusal } from './upgrade.js';

export interface ServerLimits extends ClientLimits {
  maxMessageBytes: number;
  maxClients: number;
  commandsPerSecond: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxMessageBytes: MAX_MESSAGE_BYTES,
  frameQueue: 1,
  controlQueue: 64,
  maxClients: 32,
  commandsPerSecond: 30,
};

/** The commands a session handles (the transport answers `ping` and `stats`). */
export type SessionCommand = Exclude<Command, { type: 'ping' | 'stats' }>;
export type CommandError = { code: ErrorCode; message: string };

/** What the transport serves: the messages a client gets on connecting and on each change, and its commands. */
export interface Session {
  /** Sent to each client as it connects (hello, timeline), in order. */
  greeting(limits: Pick<ServerLimits, 'maxMessageBytes' | 'frameQueue' | 'commandsPerSecond'>): ServerMessage[];
  /** Broadcast whenever the clients or the session's state change. */
  state(clients: number): ServerMessage;
  /** Applies a validated command; returns why it cannot be done, if it cannot. */
  command(cmd: SessionCommand): CommandError | undefined;
}

export interface TransportOptions {
  host: string;
  port: number;
  token: string | undefined;
  /** The web app's folder, resolved (realpath). */
  webRoot: string;
  limits: ServerLimits;
}

export interface TransportStats {
  clients: ClientStats[];
  /** Frames offered to the clients. */
  frames: number;
  /** Event-loop delay since the server started or the last `stats(true)`. */
  eventLoop: LoopDelay;
}

export class Transport {
  private session: Session | undefined;
  private readonly clients = new Map<WebSocket, ClientChannel>();
  private nextId = 1;
  private frames = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly loopDelay = new LoopDelayMonitor();
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly loopbackBind: boolean;

  private constructor(private readonly o: TransportOptions) {
    this.loopbackBind = isLoopbackHost(o.host);
    // Node's own check for a missing Host answers a bare 400; hostRefusal does it with our headers.
    this.http = createServer({ requireHostHeader: false }, (req, res) => {
      try {
        this.onRequest(req, res);
      } catch {
        // Unreachable by design (every parser here is total); a bug costs this request, not the process.
        send(res, 500, 'internal error');
      }
    });
    // Slow-loris and idle sockets: static files are small, so short limits are fine.
    this.http.requestTimeout = 30_000;
    this.http.headersTimeout = 10_000;
    // Requests Node's parser refuses (bad syntax, headers too large, too slow) get the same headers as ours,
    // and so does Node's other answer of its own, 417 to an `Expect` other than 100-continue.
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => clientError(err, socket));
    // CONNECT (a proxy's method) would otherwise be dropped without a word.
    this.http.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      answerSocket(socket, 405, 'CONNECT is not supported', { Allow: 'GET, HEAD' });
    });
    this.http.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => send(res, 417, 'only Expect: 100-continue is understood'));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
    // ws checks the handshake itself; with this hook its refusals carry our headers like every other answer.
    this.wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => handshakeError(err, socket, req));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  /** Listens on the host and port (a port in use or a wrong address is a UserError). */
  static async listen(o: TransportOptions): Promise<Transport> {
    const t = new Transport(o);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        t.http.off('listening', onListening);
        reject(listenError(err, o.host, o.port));
      };
      const onListening = (): void => {
        t.http.off('error', onError);
        resolve();
      };
      t.http.once('error', onError);
      t.http.once('listening', onListening);
      t.http.listen(o.port, o.host);
    }).catch((err: unknown) => {
      t.loopDelay.stop();
      throw err;
    });
    t.http.on('error', () => undefined);
    return t;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** From now on, upgrades are accepted and commands go to `session`. */
  serve(session: Session): void {
    this.session = session;
  }

  broadcast(msg: ServerMessage): void {
    this.eachClient((c) => c.send(msg));
  }

  /** A frame for every client (each keeps only the newest it has no room for). */
  offer(frame: OutgoingFrame): void {
    this.frames++;
    this.eachClient((c) => c.offer(frame));
  }

  /** `reset` starts a new event-loop window after reading this one. */
  stats(reset = false): TransportStats {
    return { clients: [...this.clients.values()].map((c) => c.stats()), frames: this.frames, eventLoop: this.loopDelay.read(reset) };
  }

  /** Closes the clients and the port; `whileClosing` runs (the session's own close) before they are forced. */
  close(whileClosing: () => Promise<void> = async () => undefined): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      for (const ws of this.clients.keys()) {
        ws.close(1001, 'server shutting down');
        setTimeout(() => ws.terminate(), 500).unref();
      }
      const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.http.closeIdleConnections();
      await whileClosing();
      for (const ws of this.clients.keys()) ws.terminate();
      this.http.closeAllConnections();
      await httpClosed;
      this.loopDelay.stop();
    })();
    return this.closed;
  }

  // A failure to queue for one client (a socket in a state ws refuses) costs that client its connection,
  // never the pipeline: these run inside the session's loop.
  private eachClient(fn: (c: ClientChannel) => void): void {
    for (const [ws, c] of this.clients) {
      try {
        fn(c);
      } catch {
        this.clients.delete(ws);
        ws.terminate();
      }
    }
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const refusal = this.hostRefusal(req);
    if (refusal) {
      send(res, refusal[0], refusal[1]);
      return;
    }
    void serveStatic(req, res, this.o.webRoot).catch(() => res.destroy());
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let refusal: Refusal | undefined;
    try {
      refusal = this.refuseUpgrade(req);
    } catch {
      refusal = [400, 'bad request']; // unreachable by design, as above
    }
    const session = this.session;
    if (refusal || !session) {
      const [code, text, headers] = refusal ?? [503, 'warming up'];
      answerSocket(socket, code, text, headers);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, session));
  }

  private refuseUpgrade(req: IncomingMessage): Refusal | undefined {
    if (this.closing) return [503, 'shutting down'];
    const target = parseTarget(req.url);
    if (!target) return [400, 'bad request target'];
    if (target.path !== '/ws') return [404, 'not found'];
    const badHost = this.hostRefusal(req);
    if (badHost) return badHost;
    const token = this.o.token;
    if (token !== undefined) {
      const given = target.query.getAll('token');
      // Two tokens are refused, not read as the first: a proxy or a log may only look at the other one.
      if (given.length > 1) return [400, 'token given more than once'];
      if (!tokenMatches(given[0], token)) return [401, 'missing or wrong token'];
    } else if (!originAllowed(req.headers.origin, req.headers.host)) {
      return [403, 'cross-origin WebSocket refused'];
    }
    // ws would pick the first subprotocol offered; the dashboard speaks none, so an offer is refused.
    if (req.headers['sec-websocket-protocol'] !== undefined) return [400, 'no WebSocket subprotocol is offered'];
    if (this.session && this.clients.size >= this.o.limits.maxClients) return [503, 'too many clients'];
    return undefined;
  }

  /**
   * The Host header, parsed strictly on any bind: HTTP/1.1 needs one, and a malformed one is refused. On a
   * loopback bind it must also be a loopback name, which stops DNS-rebinding pages.
   */
  private hostRefusal(req: IncomingMessage): Refusal | undefined {
    const raw = req.headers.host;
    if (raw === undefined) {
      if (req.httpVersion !== '1.0') return [400, 'missing Host header'];
      return this.loopbackBind ? [403, 'this server answers to localhost names only'] : undefined;
    }
    const parsed = parseHostHeader(raw);
    if (!parsed) return [400, 'malformed Host header'];
    if (this.loopbackBind && !isLoopbackHost(parsed.name)) return [403, 'this server answers to localhost names only'];
    return undefined;
  }

  private connected(ws: WebSocket, session: Session): void {
    if (this.closing) {
      ws.terminate(); // its handshake finished after close() began
      return;
    }
    const limits = this.o.limits;
    const channel = new ClientChannel(this.nextId++, ws, limits);
    const rate = new RateLimiter(limits.commandsPerSecond);
    let rateWarned = 0;
    this.clients.set(ws, channel);
    // An 'error' (bad frame, oversized message: ws then closes with 1002/1009) must not reach the process.
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.clients.delete(ws);
      if (!this.closing) this.broadcast(session.state(this.clients.size));
    });
    const onMessage = (data: RawData, isBinary: boolean): void => {
      if (!rate.take()) {
        const now = Date.now();
        if (now - rateWarned > 1000) {
          rateWarned = now;
          channel.send({ v: 1, type: 'error', code: 'rate_limited', message: `more than ${limits.commandsPerSecond} commands per second; some were ignored` });
        }
        return;
      }
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const parsed = parseCommand(bytes, isBinary);
      if (!parsed.ok) {
        channel.send({ v: 1, type: 'error', code: parsed.code, message: parsed.message, ...(parsed.command ? { command: parsed.command } : {}) });
        return;
      }
      const cmd = parsed.command;
      if (cmd.type === 'ping') {
        channel.send({ v: 1, type: 'pong', ...(cmd.id !== undefined ? { id: cmd.id } : {}), serverTime: Date.now() });
        return;
      }
      if (cmd.type === 'stats') {
        channel.send({ v: 1, type: 'stats', eventLoop: this.loopDelay.read(cmd.reset === true), frames: this.frames, clients: this.clients.size });
        return;
      }
      const err = session.command(cmd);
      if (err) channel.send({ v: 1, type: 'error', ...err, command: cmd.type });
    };
    ws.on('message', (data, isBinary) => {
      try {
        onMessage(data, isBinary);
      } catch (err) {
        // A bug must not take the process (and every other client) down with it.
        channel.send({ v: 1, type: 'error', code: 'internal', message: `internal error: ${oneLine(err)}` });
      }
    });

    for (const msg of session.greeting(limits)) channel.send(msg);
    this.broadcast(session.state(this.clients.size));
  }
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') return new UserError(`port ${port} on ${host} is in use; pick another with --port (0 = any free port)`);
  if (err.code === 'EACCES') return new UserError(`not allowed to listen on ${host}:${port} (ports below 1024 need privileges); try --port 8080`);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') return new UserError(`cannot listen on ${host}: no such address on this machine`);
  return new UserError(`cannot listen on ${host}:${port} (${err.code ?? err.message})`);
}
