// `startServer`: one node:http server on one port for the web app (static files) and the WebSocket endpoint
// `/ws`, wired to one Player. Each client gets its own bounded queue (client.ts); whatever a client sends
// is validated (protocol.ts) and can at worst get itself an error reply or disconnected.
import { existsSync, realpathSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { appPath } from '../app-root.js';
import { UserError, oneLine } from '../errors.js';
import { REALTIME_METHODS } from '../saliency/methods/index.js';
import { CAM_METHODS, COLORMAPS } from '../types.js';
import { ClientChannel, type ClientLimits, type ClientStats, type OutgoingFrame } from './client.js';
import { PROTOCOL_VERSION, type HelloMessage, type ServerMessage } from './messages.js';
import { MAX_MESSAGE_BYTES, RateLimiter, parseCommand } from './protocol.js';
import { Player, type PlayerOptions } from './player.js';
import { checkBind, hostAllowed, isLoopbackHost, originAllowed, tokenMatches } from './security.js';
import { SECURITY_HEADERS, send, serveStatic } from './static.js';

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

export interface ServerOptions extends PlayerOptions {
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
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  /** Where to open the dashboard (with the token, when there is one). */
  readonly url: string;
  readonly player: Player;
  stats(): ServerStats;
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

  const player = await Player.open(opts);
  const clients = new Map<WebSocket, ClientChannel>();
  let nextId = 1;
  let frames = 0;
  let closing = false;

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
  player.events = {
    frame: (f: OutgoingFrame) => {
      frames++;
      eachClient((c) => c.offer(f));
    },
    state: () => broadcast(player.state(clients.size)),
    notice: (level, message) => broadcast({ v: 1, type: 'notice', level, message }),
  };

  const http: Server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, loopbackBind)) {
      send(res, 403, 'this server answers to localhost names only');
      return;
    }
    void serveStatic(req, res, webRoot).catch(() => res.destroy());
  });
  // Slow-loris and idle sockets: static files are small, so short limits are fine.
  http.requestTimeout = 30_000;
  http.headersTimeout = 10_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refusal = refuseUpgrade(req);
    if (refusal) {
      rejectUpgrade(socket, refusal[0], refusal[1]);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connected(ws));
  });

  function refuseUpgrade(req: IncomingMessage): [number, string] | undefined {
    if (closing) return [503, 'shutting down'];
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return [404, 'not found'];
    if (!hostAllowed(req.headers.host, loopbackBind)) return [403, 'this server answers to localhost names only'];
    if (token !== undefined) {
      if (!tokenMatches(url.searchParams.get('token'), token)) return [401, 'missing or wrong token'];
    } else if (!originAllowed(req.headers.origin, req.headers.host)) {
      return [403, 'cross-origin WebSocket refused'];
    }
    if (clients.size >= limits.maxClients) return [503, 'too many clients'];
    return undefined;
  }

  function connected(ws: WebSocket): void {
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
      const err = player.command(cmd);
      if (err) channel.send({ v: 1, type: 'error', ...err, command: cmd.type });
    };

    channel.send(hello());
    channel.send({ v: 1, type: 'timeline', entries: player.timeline.list() });
    broadcast(player.state(clients.size));
  }

  function hello(): HelloMessage {
    return {
      v: PROTOCOL_VERSION,
      type: 'hello',
      server: SERVER_NAME,
      source: player.source,
      model: player.model,
      backend: player.backend,
      methods: CAM_METHODS,
      realtimeMethods: REALTIME_METHODS,
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
  }).catch(async (err: unknown) => {
    await player.close();
    throw err;
  });
  http.on('error', () => undefined);
  player.start();

  const port = (http.address() as AddressInfo).port;
  const url = dashboardUrl(host, port, token);
  let closed: Promise<void> | undefined;

  return {
    host,
    port,
    token,
    url,
    player,
    stats: () => ({ clients: [...clients.values()].map((c) => c.stats()), frames }),
    close() {
      closed ??= (async () => {
        closing = true;
        for (const ws of clients.keys()) {
          ws.close(1001, 'server shutting down');
          setTimeout(() => ws.terminate(), 500).unref();
        }
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        await player.close();
        for (const ws of clients.keys()) ws.terminate();
        http.closeAllConnections();
        await httpClosed;
      })();
      return closed;
    },
  };
}

function rejectUpgrade(socket: Duplex, code: number, text: string): void {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[code] ?? 'Error';
  const body = `${text}\n`;
  const headers = Object.entries({ ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${code} ${reason}\r\n${headers}\r\n${body}`);
  setTimeout(() => socket.destroy(), 1000).unref();
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
