// `saliencam soak` (npm run soak -- --frames 10000): a long run that must not leak.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { runSoak } from '../bench/soak.js';
import { sampleClip } from '../clips.js';
import { EXIT, UserError } from '../errors.js';
import { writeFileAtomic } from '../video/index.js';
import { addModelOptions, everyOption, numberIn, type ModelFlags } from './options.js';

interface Flags extends ModelFlags {
  frames: number;
  every: number;
  clip?: string;
  json?: string;
}

export function soakCommand(): Command {
  const cmd = new Command('soak')
    .description('run the whole pipeline on the sample clip looped for N frames; fail on tensor or memory growth')
    .option('--frames <n>', 'frames to process', numberIn('--frames', 1, 10_000_000, true), 10_000)
    .addOption(everyOption('explain every n-th frame (the rest render the last maps)'))
    .option('--clip <video>', 'clip to loop (default: test_video.mp4 in $SALIENCAM_CLIPS, else the bundled sample drive)')
    .option('--json <file>', 'write the result as JSON');
  addModelOptions(cmd);
  return cmd.action(async (flags: Flags) => {
    const clip = flags.clip ?? sampleClip();
    if (!existsSync(clip)) throw new UserError(`soak clip ${clip} not found: pass --clip or set SALIENCAM_CLIPS`);
    const r = await runSoak({
      clip,
      frames: flags.frames,
      every: flags.every,
      engine: { model: flags.model, backend: flags.backend, batching: flags.batching, ...(flags.layer ? { layer: flags.layer } : {}) },
      log: (l) => process.stderr.write(`soak: ${l}\n`),
    });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    if (flags.json) await writeFileAtomic(flags.json, `${JSON.stringify(r, null, 2)}\n`);
    if (!r.ok) {
      process.stderr.write(`saliencam: soak failed: tensors ${r.tensorsStart} → ${r.tensorsEnd}, RSS growth ${(r.rssGrowth * 100).toFixed(1)}% (limit 10%)\n`);
      process.exitCode = EXIT.internal;
    }
  });
}
