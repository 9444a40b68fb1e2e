// `saliencam serve [source]`: the live dashboard. Loads the model, starts the HTTP + WebSocket server,
// prints the URL and runs until SIGINT/SIGTERM, then closes the decoder, the server and the engine (exit 0).
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createExplainer } from '../explain/create.js';
import { sampleClipsDir } from '../clips.js';
import { UserError } from '../errors.js';
import { checkBind, defaultWebRoot, generateToken, isLoopbackHost, startServer } from '../server/index.js';
import { probeSource } from '../video/index.js';
import { onInterrupt } from './signals.js';
import { addTopicOption, sourceWithTopic } from './topic.js';
import { addExplainOptions, addPipelineOptions, addRenderOptions, addWorkerOption, engineOptions, numberIn, type ExplainFlags, type RenderFlags } from './options.js';

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

    // Explaining runs in worker threads (`--workers auto` on WASM/CPU), so the server's event loop never
    // waits on a frame: pings, handshakes and other viewers go on while a slow method works.
    const engine = await createExplainer({ ...engineOptions(flags), warn: (w) => process.stderr.write(`saliencam: note: ${w}\n`) });
    try {
      const threads = engine.concurrency > 1 ? ` in ${engine.concurrency} worker threads` : '';
      process.stderr.write(`saliencam: ${engine.model} on ${engine.backend}${threads}, warming up…\n`);
      await engine.warmUp();
      const server = await startServer({
        source,
        engine,
        every: flags.every,
        smooth: flags.smooth,
        host: flags.host,
        port: flags.port,
        ...(token !== undefined ? { token } : {}),
        settings: { method: flags.method, colormap: flags.colormap, alpha: flags.alpha, perDetection: Boolean(flags.perDetection), view: flags.view, boxes: flags.boxes },
        ...(flags.classes ? { classes: flags.classes } : {}),
        legend: flags.legend,
        format: flags.format,
        quality: flags.quality,
        loop: Boolean(flags.loop),
        autoplay: !flags.paused,
        ...(flags.maxFps !== undefined ? { maxFps: flags.maxFps } : {}),
      });
      process.stdout.write(`saliencam: dashboard for ${server.player.source.name} at ${server.url}\n`);
      if (token !== undefined && flags.token === undefined) process.stdout.write('saliencam: the token in that URL is required; share it only with people who may use the dashboard\n');
      process.stderr.write('saliencam: press Ctrl+C to stop\n');
      // The first SIGINT/SIGTERM stops cleanly; a second exits at once (src/cli/signals.ts).
      let release = (): void => undefined;
      await new Promise<void>((resolve) => (release = onInterrupt(resolve)));
      process.stderr.write('saliencam: stopping…\n');
      await server.close();
      release();
    } finally {
      engine.dispose();
    }
  });
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
