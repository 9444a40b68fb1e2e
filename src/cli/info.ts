// `saliencam info`: what this machine offers (backends, ffmpeg, models) and what `auto` would choose.
import { Command } from 'commander';
import { initBackend, listBackends } from '../model/backend.js';
import { describeDetector, formatDescription } from '../model/describe.js';
import { BUILTIN_MODELS, builtinModelPath, loadDetector, type BuiltinModel } from '../model/registry.js';
import { locateFfmpeg } from '../video/index.js';
import { terminalSafe } from '../terminal-text.js';

export function infoCommand(): Command {
  return new Command('info')
    .description('print the TF.js backends, ffmpeg and models available here')
    .option('--json', 'machine-readable output')
    .option('--model <name|path>', 'print what saliencam recognises in this model: adapter, inputs, outputs, classes, CAM and PolyCAM layers')
    .option('--adapter <module>', 'adapter module for --model (see README: Your own detector)')
    .option('--names <file>', "class names for --model, one per line (or a YAML/JSON list), in its class order")
    .action(async (flags: { json?: boolean; model?: string; adapter?: string; names?: string }) => {
      const warnings: string[] = [];
      const backends = listBackends();
      const chosen = await initBackend('auto', (w) => warnings.push(w));
      if (flags.model) {
        const detector = await loadDetector(flags.model, flags.adapter, flags.names);
        try {
          const m = describeDetector(detector);
          // Class and node names come from the model's files: escaped line by line.
          process.stdout.write(flags.json ? `${JSON.stringify(m, null, 2)}\n` : `${formatDescription(m).map(terminalSafe).join('\n')}\n`);
        } finally {
          detector.graph.model.dispose();
        }
        return;
      }
      let ffmpeg: { path: string; version: string; source: string } | { error: string };
      try {
        const f = locateFfmpeg();
        ffmpeg = { path: f.ffmpeg, version: f.version, source: f.source };
      } catch (err) {
        ffmpeg = { error: (err as Error).message };
      }
      const models = (Object.keys(BUILTIN_MODELS) as BuiltinModel[]).map((name) => ({ name, about: BUILTIN_MODELS[name].about, path: builtinModelPath(name) ?? null }));
      const info = { node: process.version, backends, chosenBackend: chosen, warnings, ffmpeg, models };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const out = [`saliencam 0.1.0 on Node ${process.version}`, 'TF.js backends (best first):'];
      for (const b of backends) out.push(`  ${b.available ? '✓' : '✗'} ${b.name.padEnd(11)} ${b.detail}${b.name === chosen ? '   <- chosen (auto)' : ''}`);
      for (const w of warnings) out.push(`  note: ${w}`);
      out.push('ffmpeg:', 'error' in ffmpeg ? `  ✗ ${ffmpeg.error}` : `  ✓ ${ffmpeg.path} (${ffmpeg.source}, ${ffmpeg.version})`);
      out.push('models:');
      for (const m of models) out.push(`  ${m.path ? '✓' : '✗'} ${m.name.padEnd(10)} ${m.about}${m.path ? '' : ' (not installed)'}`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
