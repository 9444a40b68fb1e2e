// `saliencam serve [source]`: the live dashboard. Binds the port first (a port in use is reported at once),
// then loads and warms the model, prints the URL and runs until SIGINT/SIGTERM, then closes the decoder, the
// server and the engine and exits 0 within 2 s of the signal being handled, whatever is running (issue #13).
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createExplainer } from '../explain/create.js';
import { sampleClipsDir } from '../clips.js';
import { UserError, oneLine } from '../errors.js';
import { checkBind, defaultWebRoot, generateToken, isLoopbackHost, startServer } from '../server/index.js';
import type { Explainer } from '../types.js';
import { probeSource } from '../video/index.js';
import { onInterrupt } from './signals.js';
import { addTopicOption, sourceWithTopic } from './topic.js';
import { addExplainOptions, addPipelineOptions, addRenderOptions, addWorkerOption, engineOptions, methodParamsFromFlags, numberIn, type ExplainFlags, type RenderFlags } from './options.js';
import { terminalSafe } from '../terminal-text.js';

interface Flags extends ExplainFlags, RenderFlags {
  port: number;
  host: string;
  token?: string;
  quality: number;
  format: 'jpeg' | 'webp';
  loop?: boolean;
  paused?: boolean;
  maxFps?: number;
  every: number;
  smooth: number;
  topic?: string;
}

const VIDEO_EXTS = new Set(['.mp4', '.mov', '.mkv', '.avi', '.webm', '.m4v', '.ts', '.mts']);

export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('live dashboard: the drive with its saliency overlay in the browser, with controls and a timeline')
    .argument('[source]', 'video file, .mcap recording, image pattern, - (stdin), rtsp/http URL or /dev/videoN (default: the first video in $SALIENCAM_CLIPS, else the bundled sample drive)')
    .option('--port <n>', 'port to listen on (0 = any free port)', numberIn('--port', 0, 65535, true), 8080)
    .option('--host <addr>', 'address to listen on; anything but loopback needs a token', '127.0.0.1')
    .option('--token <t>', 'access token for the page (generated and printed in the URL when --host is not loopback)')
    .option('--quality <q>', 'quality of the streamed frames, 1..100', numberIn('--quality', 1, 100, true), 80)
    .addOption(new Option('--format <f>', 'image format of the streamed frames').choices(['jpeg', 'webp']).default('jpeg'))
    .option('--loop', 'start with looping on (recorded sources)')
    .option('--paused', 'start paused (press play in the page)')
    .option('--max-fps <n>', 'process at most this many frames a second (default: the source frame rate; 0 = no limit)', numberIn('--max-fps', 0, 1000));
  addTopicOption(cmd);
  addExplainOptions(cmd);
  addRenderOptions(cmd);
  addPipelineOptions(cmd);
  addWorkerOption(cmd);
  return cmd.action(async (sourceArg: string | undefined, flags: Flags) => {
    const source = sourceWithTopic(sourceArg ?? (await defaultClip()), flags.topic);
    // Everything that can be wrong is checked before the model loads, so a typo fails at once.
    let token = flags.token;
    if (token === undefined && !isLoopbackHost(flags.host)) token = generateToken();
    checkBind(flags.host, token);
    if (!existsSync(join(defaultWebRoot(), 'dist', 'app.js'))) throw new UserError('the web app is not built; run `npm run build`');
    await probeSource(source);

    // Ctrl-C is honoured from here on, during the model's loading too; a second one exits at once.
    let stopRequested = (): void => undefined;
    const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
    const releaseSignals = onInterrupt(() => stopRequested());
    let engine: Explainer | undefined;
    const starting = startServer({
      source,
      // Loaded once the port is bound. Explaining runs in worker threads (`--workers auto` on WASM/CPU), so the
      // server's event loop never waits on a frame: pings, handshakes and other viewers go on while a slow
      // method works.
      engine: async () => {
        const created = await createExplainer({ ...engineOptions(flags), warn: (w) => process.stderr.write(`saliencam: note: ${terminalSafe(w)}\n`) });
        engine = created;
        const threads = created.concurrency > 1 ? ` in ${created.concurrency} worker threads` : '';
        process.stderr.write(`saliencam: ${created.model} on ${created.backend}${threads}, warming up…\n`);
        await created.warmUp();
        return created;
      },
      onListening: (url) => process.stderr.write(`saliencam: listening at ${url}, loading the model…\n`),
      every: flags.every,
      smooth: flags.smooth,
      host: flags.host,
      port: flags.port,
      ...(token !== undefined ? { token } : {}),
      settings: { method: flags.method, methodParams: methodParamsFromFlags(flags), colormap: flags.colormap, alpha: flags.alpha, perDetection: Boolean(flags.perDetection), view: flags.view, boxes: flags.boxes, why: flags.why ?? [], versus: flags.versus ?? null, ...(flags.normalise ? { normalise: flags.normalise } : {}) },
      ...(flags.classes ? { classes: flags.classes } : {}),
      legend: flags.legend,
      format: flags.format,
      quality: flags.quality,
      loop: Boolean(flags.loop),
      autoplay: !flags.paused,
      ...(flags.maxFps !== undefined ? { maxFps: flags.maxFps } : {}),
    });
    const server = await Promise.race([starting, stopped.then(() => undefined)]);
    if (!server) {
      // Stopped while loading: the process exits (main.ts), which ends the model's loading and ffmpeg.
      starting.catch(() => undefined);
      releaseSignals();
      process.stderr.write('saliencam: stopped before the dashboard was ready\n');
      return;
    }
    const safetyNet = lastResort();
    try {
      process.stdout.write(`saliencam: dashboard for ${terminalSafe(server.player.source.name)} at ${server.url}\n`);
      if (token !== undefined && flags.token === undefined) process.stdout.write('saliencam: the token in that URL is required; share it only with people who may use the dashboard\n');
      process.stderr.write('saliencam: press Ctrl+C to stop\n');
      await stopped;
      process.stderr.write('saliencam: stopping…\n');
      // A frame being explained is not waited for beyond a moment: the process exit (main.ts) ends it, and
      // the exit hook kills the decoder (video/exit-cleanup.ts).
      const closed = await Promise.race([server.close().then(() => true, () => false), sleep(CLOSE_GRACE_MS).then(() => false)]);
      if (closed) engine?.dispose();
    } finally {
      safetyNet();
      releaseSignals();
    }
  });
}

/** How long a stop waits for the frame in flight before leaving it to the process exit. */
const CLOSE_GRACE_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * The last resort while serving: an exception nothing caught is logged in one line and the dashboard keeps
 * serving the other clients. Every request and message path is meant to be total (server/upgrade.ts,
 * protocol.ts); this only turns a bug left there into a log line instead of a dead server.
 */
function lastResort(): () => void {
  const log = (err: unknown): void => {
    process.stderr.write(`saliencam: internal error (still serving; please report it): ${terminalSafe(oneLine(err))}\n`);
  };
  process.on('uncaughtException', log);
  process.on('unhandledRejection', log);
  return () => {
    process.off('uncaughtException', log);
    process.off('unhandledRejection', log);
  };
}

/** `npm start` gives no source: the first video (by name) in $SALIENCAM_CLIPS, else the bundled clips/. */
export async function defaultClip(dir = sampleClipsDir()): Promise<string> {
  const hint = 'pass one (`npx saliencam serve drive.mp4`), or set SALIENCAM_CLIPS to a folder of videos';
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new UserError(`no source given and the clips folder ${dir} does not exist: ${hint}`);
  }
  const first = names.filter((n) => !n.startsWith('.') && VIDEO_EXTS.has(extname(n).toLowerCase())).sort()[0];
  if (!first) throw new UserError(`no source given and no video (${[...VIDEO_EXTS].join(' ')}) in ${dir}: ${hint}`);
  return join(dir, first);
}
