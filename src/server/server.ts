// `startServer`: the dashboard put together. The transport (transport.ts: HTTP + WebSocket on one port) listens
// before the engine is ready (bind errors come first, in a second, not after the model has loaded); until then
// the page is served and WebSocket upgrades are answered 503 "warming up". Then the session (player.ts: the
// commands, `hello`, the live pipeline) opens the source and the transport starts serving it.
import { existsSync, realpathSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { appPath } from '../app-root.js';
import { UserError } from '../errors.js';
import type { Explainer } from '../types.js';
import type { OutgoingFrame } from './client.js';
import { Player, type PlayerOptions } from './player.js';
import { checkBind } from './security.js';
import { DEFAULT_LIMITS, Transport, type ServerLimits, type TransportStats } from './transport.js';

export { DEFAULT_LIMITS, type ServerLimits };
export { SERVER_NAME } from './hello.js';

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

export type ServerStats = TransportStats;

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

/** The package's (or the offline kit's) web/ folder. */
export function defaultWebRoot(): string {
  return appPath('web');
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token;
  checkBind(host, token);
  const webRootOpt = opts.webRoot ?? defaultWebRoot();
  if (!existsSync(webRootOpt)) throw new UserError(`web app folder ${webRootOpt} is missing`);
  const transport = await Transport.listen({ host, port: opts.port ?? 8080, token, webRoot: realpathSync(webRootOpt), limits: { ...DEFAULT_LIMITS, ...opts.limits } });
  const port = transport.port;
  const url = dashboardUrl(host, port, token);
  opts.onListening?.(url);

  let player: Player;
  try {
    const engine = typeof opts.engine === 'function' ? await opts.engine() : opts.engine;
    player = await Player.open({ ...opts, engine });
  } catch (err) {
    await transport.close();
    throw err;
  }
  player.events = {
    frame: (f: OutgoingFrame) => transport.offer(f),
    state: () => transport.broadcast(player.state(transport.clientCount)),
    notice: (level, message) => transport.broadcast({ v: 1, type: 'notice', level, message }),
  };
  transport.serve(player);
  player.start();

  return {
    host,
    port,
    token,
    url,
    player,
    stats: (reset = false) => transport.stats(reset),
    close: () => transport.close(() => player.close()),
  };
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
