// `saliencam bench` (npm run bench): detector and saliency costs, per-stage times and end-to-end fps,
// measured side by side in one run.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { runBench, type BenchResult } from '../bench/run.js';
import { sampleClip } from '../clips.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../video/index.js';
import { addModelOptions, numberIn, type ModelFlags } from './options.js';

interface Flags extends Omit<ModelFlags, "workers"> {
  json?: string;
  clip?: string;
  repeats: number;
  workers: string;
}

export function benchCommand(): Command {
  const cmd = new Command('bench')
    .description('benchmark the detector, the saliency step (K = 1, 4, 8) and the end-to-end pipeline')
    .option('--json <file>', 'also write the results as JSON')
    .option('--clip <video>', 'clip to run (default: test_video.mp4 in $SALIENCAM_CLIPS, else the bundled sample drive)')
    .option('--repeats <n>', 'timed repetitions per micro-benchmark (median reported)', numberIn('--repeats', 1, 1000, true), 7)
    .option('--workers <list>', 'explain worker counts to compare end to end, e.g. 0,2 (0 = in-process)', '0,auto');
  addModelOptions(cmd);
  return cmd.action(async (flags: Flags) => {
    const clip = flags.clip ?? sampleClip();
    if (!existsSync(clip)) throw new UserError(`bench clip ${clip} not found: pass --clip, or set SALIENCAM_CLIPS`);
    const workers = flags.workers.split(',').map((w) => {
      if (w === 'auto') return Math.min(4, availableParallelism());
      const n = Number(w);
      if (!Number.isInteger(n) || n < 0 || n > 16) throw new UserError(`--workers: ${w} is not a worker count (0-16 or auto)`);
      return n;
    });
    const result = await runBench({
      clip,
      engine: { model: flags.model, ...(flags.adapter ? { adapter: flags.adapter } : {}), ...(flags.names ? { names: flags.names } : {}), backend: flags.backend, ...(flags.layer ? { layer: flags.layer } : {}), batching: flags.batching },
      repeats: flags.repeats,
      workers: [...new Set(workers)],
      log: (l) => process.stderr.write(`bench: ${l}\n`),
    });
    process.stdout.write(table(result));
    if (flags.json) await writeFileAtomic(flags.json, `${JSON.stringify(result, null, 2)}\n`);
  });
}

function table(r: BenchResult): string {
  const rows: [string, string][] = [
    ['backend / model / layer', `${r.backend} / ${r.model} / ${r.layer}`],
    ['clip', `${r.clip} (${r.frameSize})`],
    ['start-up (load + warm-up)', `${r.startupMs} ms`],
    ['first overlaid frame', `${r.firstFrameMs} ms`],
    ['detector alone (saliency off; ratios divide by it)', `${r.detectorMs} ms`],
    ['bare forward + decode: decode nodes only / + saliency fetches', `${r.forwardMs.plain} / ${r.forwardMs.withFetches} ms`],
    ['forward + saliency, K=1 batched', `${(r.detectorMs + r.saliencyMs['K1']!).toFixed(1)} ms (×${r.saliencyRatioK1})`],
    ['forward + saliency, K=4 batched', `${(r.detectorMs + r.saliencyMs['K4']!).toFixed(1)} ms (×${r.saliencyRatioK4})`],
    ['forward + saliency, K=8 batched', `${(r.detectorMs + r.saliencyMs['K8']!).toFixed(1)} ms (×${r.saliencyRatioK8})`],
    ['forward + saliency, K=8 sequential', `${(r.detectorMs + r.saliencyMs['K8sequential']!).toFixed(1)} ms (×${r.saliencyRatioK8Sequential})`],
    ['old path: full backward, K=1 / K=8', `${(r.detectorMs + r.saliencyMs['K1full']!).toFixed(1)} ms (×${r.saliencyRatioK1Full}) / ${(r.detectorMs + r.saliencyMs['K8full']!).toFixed(1)} ms (×${r.saliencyRatioK8Full})`],
    ['forward + one why-not region (HiResCAM, full backward)', `${(r.detectorMs + r.saliencyMs['why1']!).toFixed(1)} ms (×${((r.detectorMs + r.saliencyMs['why1']!) / r.detectorMs).toFixed(2)})`],
    ['forward + one contrastive target (--versus), K=1', `${(r.detectorMs + r.saliencyMs['versusK1']!).toFixed(1)} ms (×${((r.detectorMs + r.saliencyMs['versusK1']!) / r.detectorMs).toFixed(2)})`],
    ['stage: decode', `${r.stages.decodeMs} ms/frame`],
    ['stage: detect / saliency', `${r.stages.detectMs} / ${r.stages.saliencyMs} ms/frame`],
    ['stage: render', `${r.stages.renderMs} ms/frame`],
    ['stage: encode', `${r.stages.encodeMs} ms/frame`],
    ...r.e2e.map((e): [string, string] => [
      `end to end, ${e.workers ? `${e.workers} explain workers` : 'in-process'}`,
      `${e.fps} fps (rounds ${e.rounds.join(' / ')}; overlap efficiency ${e.overlapEfficiency})`,
    ]),
    ['end to end, detection only (saliency off)', `${r.e2eDetectionOnlyFps} fps (with saliency: ×${r.e2eRatioToDetectionOnly} of it, median of the rounds' ratios)`],
    ...r.serve.map((e): [string, string] => [
      `serve (dashboard), ${e.workers ? `${e.workers} explain workers` : 'in-process'}`,
      `${e.fps} fps (rounds ${e.rounds.join(' / ')})${e.ratioToInProcess ? ` ×${e.ratioToInProcess} in-process` : ''}`,
    ]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}
