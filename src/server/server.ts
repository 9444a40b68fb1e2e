// `startServer`: one node:http server on one port for the web app (static files) and the WebSocket endpoint
// `/ws`, wired to one Player. Each client gets its own bounded queue (client.ts); whatever a client sends
// is validated (protocol.ts) and can at worst get itself an error reply or disconnected. It listens before the
// engine is ready (bind errors come first, in a second, not after the model has loaded); until then the page
// is served and WebSocket upgrades are answered 503 "warming up".
import { existsSync, realpathSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { appPath } from '../app-root.js';
import { UserError, oneLine } from '../errors.js';
import { REALTIME_METHODS } from '../saliency/methods/index.js';
import { COLORMAPS, methodParamInfo } from '../settings.js';
import { ClientChannel, type ClientLimits, type ClientStats, type OutgoingFrame } from './client.js';
import { LoopDelayMonitor, type LoopDelay } from './loop-delay.js';
import { PROTOCOL_VERSION } from './commands.js';
import type { HelloMessage, ServerMessage } from './messages.js';
import { MAX_MESSAGE_BYTES, RateLimiter, parseCommand } from './protocol.js';
import type { Explainer } from '../types.js';
import { Player, type PlayerOptions } from './player.js';
import { checkBind, isLoopbackHost, originAllowed, parseHostHeader, tokenMatches } from './security.js';
import { SECURITY_HEADERS, send, serveStatic } from './static.js';
import { handshakeRefusal, parseTarget, type Refusal } from './upgrade.js';

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

export interface ServerOptions extends Omit<PlayerOptions, 'engine'> {
  /**
   * The engine, or a function that loads it: that one is called once the port is bound, so that a port in
   * use or a wrong address is reported before the model loads.
   */
  engine: Explainer | (() => Promise<Explainer>);
  /** Called once the port is bound, before the engine is loaded (the URL to open). */
  onListening?: (url: string) => void;
  /** Default 127.0.0.1. Any non-loopback address needs `token`. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  token?: string;
  /** Folder of the built web app (default: the package's web/). */
  webRoot?: string;
  limits?: Partial<ServerLimits>;
}

export interface ServerStats {
  clients: ClientStats[];
  /** Frames the pipeline has broadcast. */
  frames: number;
  /** Event-loop delay since the server started or the last `stats(true)`. */
  eventLoop: LoopDelay;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  /** Where to open the dashboard (with the token, when there is one). */
  readonly url: string;
  readonly player: Player;
  /** `reset` starts a new event-loop window after reading this one. */
  stats(reset?: boolean): ServerStats;
  close(): Promise<void>;
}

export const SERVER_NAME = 'saliencam 0.1.0';

/** The package's (or the offline kit's) web/ folder. */
export function defaultWebRoot(): string {
  return appPath('web');
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token;
  checkBind(host, token);
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const webRootOpt = opts.webRoot ?? defaultWebRoot();
  if (!existsSync(webRootOpt)) throw new UserError(`web app folder ${webRootOpt} is missing`);
  const webRoot = realpathSync(webRootOpt);
  const loopbackBind = isLoopbackHost(host);

  /** Set once the engine is loaded and the source opened; until then upgrades are answered 503. */
  let player: Player | undefined;
  const clients = new Map<WebSocket, ClientChannel>();
  let nextId = 1;
  let frames = 0;
  let closing = false;
  const loopDelay = new LoopDelayMonitor();

  // A failure to queue for one client (a socket in a state ws refuses) costs that client its connection,
  // never the pipeline: these run inside the player's loop.
  const eachClient = (fn: (c: ClientChannel) => void): void => {
    for (const [ws, c] of clients) {
      try {
        fn(c);
      } catch {
        clients.delete(ws);
        ws.terminate();
      }
    }
  };
  const broadcast = (msg: ServerMessage): void => eachClient((c) => c.send(msg));

  // Node's own check for a missing Host answers a bare 400; hostRefusal does it with our headers.
  const http: Server = createServer({ requireHostHeader: false }, (req, res) => {
    try {
      onRequest(req, res);
    } catch {
      // Unreachable by design (every parser here is total); a bug costs this request, not the process.
      send(res, 500, 'internal error');
    }
  });
  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const refusal = hostRefusal(req);
    if (refusal) {
      send(res, refusal[0], refusal[1]);
      return;
    }
    void serveStatic(req, res, webRoot).catch(() => res.destroy());
  }
  // Slow-loris and idle sockets: static files are small, so short limits are fine.
  http.requestTimeout = 30_000;
  http.headersTimeout = 10_000;
  // Requests Node's parser refuses (bad syntax, headers too large, too slow) get the same headers as ours,
  // and so does Node's other answer of its own, 417 to an `Expect` other than 100-continue.
  http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => clientError(err, socket));
  // CONNECT (a proxy's method) would otherwise be dropped without a word.
  http.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    rejectUpgrade(socket, 405, 'CONNECT is not supported', { Allow: 'GET, HEAD' });
  });
  http.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => send(res, 417, 'only Expect: 100-continue is understood'));

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let refusal: Refusal | undefined;
    try {
      refusal = refuseUpgrade(req);
    } catch {
      refusal = [400, 'bad request']; // unreachable by design, as above
    }
    if (refusal || !player) {
      const [code, text, headers] = refusal ?? [503, 'warming up'];
      rejectUpgrade(socket, code, text, headers);
      return;
    }
    const ready = player;
    wss.handleUpgrade(req, socket, head, (ws) => connected(ws, ready));
  });

  function refuseUpgrade(req: IncomingMessage): Refusal | undefined {
    if (closing) return [503, 'shutting down'];
    const target = parseTarget(req.url);
    if (!target) return [400, 'bad request target'];
    if (target.path !== '/ws') return [404, 'not found'];
    const badHost = hostRefusal(req);
    if (badHost) return badHost;
    if (token !== undefined) {
      const given = target.query.getAll('token');
      // Two tokens are refused, not read as the first: a proxy or a log may only look at the other one.
      if (given.length > 1) return [400, 'token given more than once'];
      if (!tokenMatches(given[0], token)) return [401, 'missing or wrong token'];
    } else if (!originAllowed(req.headers.origin, req.headers.host)) {
      return [403, 'cross-origin WebSocket refused'];
    }
    const bad = handshakeRefusal(req);
    if (bad) return bad;
    if (player && clients.size >= limits.maxClients) return [503, 'too many clients'];
    return undefined;
  }

  /**
   * The Host header, parsed strictly on any bind: HTTP/1.1 needs one, and a malformed one is refused. On a
   * loopback bind it must also be a loopback name, which stops DNS-rebinding pages.
   */
  function hostRefusal(req: IncomingMessage): Refusal | undefined {
    const raw = req.headers.host;
    if (raw === undefined) {
      if (req.httpVersion !== '1.0') return [400, 'missing Host header'];
      return loopbackBind ? [403, 'this server answers to localhost names only'] : undefined;
    }
    const parsed = parseHostHeader(raw);
    if (!parsed) return [400, 'malformed Host header'];
    if (loopbackBind && !isLoopbackHost(parsed.name)) return [403, 'this server answers to localhost names only'];
    return undefined;
  }

  function connected(ws: WebSocket, player: Player): void {
    if (closing) {
      ws.terminate(); // its handshake finished after close() began
      return;
    }
    const channel = new ClientChannel(nextId++, ws, limits);
    const rate = new RateLimiter(limits.commandsPerSecond);
    let rateWarned = 0;
    clients.set(ws, channel);
    // An 'error' (bad frame, oversized message: ws then closes with 1002/1009) must not reach the process.
    ws.on('error', () => undefined);
    ws.on('close', () => {
      clients.delete(ws);
      if (!closing) broadcast(player.state(clients.size));
    });
    ws.on('message', (data, isBinary) => {
      try {
        onMessage(data, isBinary);
      } catch (err) {
        // A bug must not take the process (and every other client) down with it.
        channel.send({ v: 1, type: 'error', code: 'internal', message: `internal error: ${oneLine(err)}` });
      }
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
        channel.send({ v: 1, type: 'stats', eventLoop: loopDelay.read(cmd.reset === true), frames, clients: clients.size });
        return;
      }
      const err = player.command(cmd);
      if (err) channel.send({ v: 1, type: 'error', ...err, command: cmd.type });
    };

    channel.send(hello(player));
    channel.send({ v: 1, type: 'timeline', entries: player.timeline.list() });
    broadcast(player.state(clients.size));
  }

  function hello(player: Player): HelloMessage {
    return {
      v: PROTOCOL_VERSION,
      type: 'hello',
      server: SERVER_NAME,
      source: player.source,
      model: player.model,
      backend: player.backend,
      methods: player.methods,
      realtimeMethods: REALTIME_METHODS.filter((m) => player.methods.includes(m)),
      methodParams: Object.fromEntries(Object.entries(methodParamInfo()).filter(([m]) => (player.methods as readonly string[]).includes(m))),
      colormaps: COLORMAPS,
      classNames: player.classNames,
      imageFormat: opts.format ?? 'jpeg',
      limits: { maxMessageBytes: limits.maxMessageBytes, frameQueue: limits.frameQueue, commandsPerSecond: limits.commandsPerSecond },
    };
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      http.off('listening', onListening);
      reject(listenError(err, host, opts.port ?? 8080));
    };
    const onListening = (): void => {
      http.off('error', onError);
      resolve();
    };
    http.once('error', onError);
    http.once('listening', onListening);
    http.listen(opts.port ?? 8080, host);
  }).catch((err: unknown) => {
    loopDelay.stop();
    throw err;
  });
  http.on('error', () => undefined);
  const port = (http.address() as AddressInfo).port;
  const url = dashboardUrl(host, port, token);
  opts.onListening?.(url);

  try {
    const engine = typeof opts.engine === 'function' ? await opts.engine() : opts.engine;
    player = await Player.open({ ...opts, engine });
  } catch (err) {
    closing = true;
    loopDelay.stop();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    throw err;
  }
  const ready = player;
  ready.events = {
    frame: (f: OutgoingFrame) => {
      frames++;
      eachClient((c) => c.offer(f));
    },
    state: () => broadcast(ready.state(clients.size)),
    notice: (level, message) => broadcast({ v: 1, type: 'notice', level, message }),
  };
  ready.start();

  let closed: Promise<void> | undefined;

  return {
    host,
    port,
    token,
    url,
    player: ready,
    stats: (reset = false) => ({ clients: [...clients.values()].map((c) => c.stats()), frames, eventLoop: loopDelay.read(reset) }),
    close() {
      closed ??= (async () => {
        closing = true;
        for (const ws of clients.keys()) {
          ws.close(1001, 'server shutting down');
          setTimeout(() => ws.terminate(), 500).unref();
        }
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        await ready.close();
        for (const ws of clients.keys()) ws.terminate();
        http.closeAllConnections();
        await httpClosed;
        loopDelay.stop();
      })();
      return closed;
    },
  };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
};

/** A whole HTTP response written straight to a socket (no ServerResponse exists for these), then closed. */
function rejectUpgrade(socket: Duplex, code: number, text: string, extra: Record<string, string> = {}): void {
  const body = `${text}\n`;
  const headers = Object.entries({ ...SECURITY_HEADERS, ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (socket.writable) socket.end(`HTTP/1.1 ${code} ${REASONS[code] ?? 'Error'}\r\n${headers}\r\n${body}`);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Node's 'clientError' default, with our headers: 431 for headers too large, 408 for too slow, else 400. */
function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already on its way (keep-alive) cannot be followed by another; a reset peer reads nothing.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [code, text] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'request headers too large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request timed out'] : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? [413, 'chunk extensions too large'] : [400, 'bad request'];
  rejectUpgrade(socket, code, text);
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') return new UserError(`port ${port} on ${host} is in use; pick another with --port (0 = any free port)`);
  if (err.code === 'EACCES') return new UserError(`not allowed to listen on ${host}:${port} (ports below 1024 need privileges); try --port 8080`);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') return new UserError(`cannot listen on ${host}: no such address on this machine`);
  return new UserError(`cannot listen on ${host}:${port} (${err.code ?? err.message})`);
}

/** A URL a browser can open: the wildcard addresses are replaced by this machine's first LAN address. */
export function dashboardUrl(host: string, port: number, token: string | undefined): string {
  let shown = host;
  if (host === '0.0.0.0' || host === '::') {
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4');
    shown = lan?.address ?? 'localhost';
  }
  const h = shown.includes(':') ? `[${shown}]` : shown;
  return `http://${h}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}
