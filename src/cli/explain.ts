// `saliencam explain <image>`: detections, one saliency map per class (or detection), an overlay, a JSON record.
import { Command } from 'commander';
import { basename } from 'node:path';
import { Engine } from '../engine.js';
import { UserError } from '../errors.js';
import { imageFormatOf, renderFrame, saveImage } from '../render/index.js';
import { checkOutputPath, writeFileAtomic } from '../video/index.js';
import { readImageFrame } from './image-input.js';
import { addTopicOption, firstRecordingFrame, sourceWithTopic } from './topic.js';
import { isRecordingInput } from '../recording/input-name.js';
import { addExplainOptions, addRenderOptions, engineOptions, renderOptions, type ExplainFlags, type RenderFlags } from './options.js';
import { terminalSafe } from '../terminal-text.js';

interface Flags extends ExplainFlags, RenderFlags {
  output?: string;
  json?: string;
  maps?: string;
  quiet?: boolean;
  topic?: string;
}

export function explainCommand(): Command {
  const cmd = new Command('explain')
    .description('explain one image: detections + a saliency map per detected class')
    .argument('<image>', 'a still image (jpg, png, webp, …), or an .mcap recording (its first camera frame)')
    .option('-o, --output <file>', 'write the overlay image (png, jpg or webp)')
    .option('--json <file>', 'write the JSON result')
    .option('--maps <file>', 'write the saliency maps themselves as JSON (values at model resolution, for comparisons)')
    .option('-q, --quiet', 'print nothing on success');
  addTopicOption(cmd);
  addExplainOptions(cmd);
  addRenderOptions(cmd);
  return cmd.action(async (image: string, flags: Flags) => {
    const input = sourceWithTopic(image, flags.topic);
    if (flags.output && !imageFormatOf(flags.output)) throw new UserError(`--output ${flags.output}: use a .png, .jpg or .webp name`);
    // Check outputs before the slow part, so a typo fails in milliseconds, not after the model has run.
    if (flags.output) await checkOutputPath(flags.output);
    if (flags.json) await checkOutputPath(flags.json);
    if (flags.maps) await checkOutputPath(flags.maps);
    const frame = isRecordingInput(input) ? await firstRecordingFrame(input) : await readImageFrame(image);
    const engine = await Engine.create(engineOptions(flags));
    try {
      const got = await engine.explain(frame);
      const explained = { ...got, record: { ...got.record, source: basename(image) } };
      if (flags.output) await saveImage(await renderFrame(explained, renderOptions(flags)), flags.output);
      if (flags.json) await writeFileAtomic(flags.json, `${JSON.stringify(explained.record, null, 2)}\n`);
      if (flags.maps) await writeFileAtomic(flags.maps, `${JSON.stringify({ maps: explained.maps.map((m) => ({ ...m, data: Array.from(m.data), ...(m.raw ? { raw: Array.from(m.raw) } : {}) })) })}\n`);
      if (!flags.quiet) printSummary(explained.record);
    } finally {
      engine.dispose();
    }
  });
}

function printSummary(r: import('../types.js').ExplainRecord): void {
  const lines = [`${r.source}: ${r.width}x${r.height}, ${r.model} on ${r.backend}, ${r.method}, ${r.timing.totalMs} ms`];
  if (!r.detections.length) lines.push('  no detections above the score threshold');
  for (const d of r.detections) lines.push(`  ${d.label.padEnd(14)} ${d.score.toFixed(2)}  [${d.box.map((v) => Math.round(v)).join(', ')}]`);
  for (const s of r.saliency) {
    const lift = s.areaInBoxes > 0 ? (s.energyInBoxes / s.areaInBoxes).toFixed(1) : '-';
    lines.push(`  map ${s.label}${s.detectionIndex !== undefined ? `#${s.detectionIndex}` : ''}${s.versus ? ` vs ${s.versus}` : ''}: ${(s.energyInBoxes * 100).toFixed(1)}% of saliency in ${(s.areaInBoxes * 100).toFixed(1)}% of the image (lift ${lift}), peak ${s.pointingHit ? 'inside' : 'outside'} its boxes`);
  }
  for (const w of r.why ?? []) {
    lines.push(`  why ${w.label}@${w.box.map((v) => Math.round(v)).join(',')}: best ${w.label} score there ${w.bestScore.toFixed(3)}; ${(w.energyInBox * 100).toFixed(1)}% of its map in ${(w.areaInBox * 100).toFixed(1)}% of the image, peak ${w.pointingHit ? 'inside' : 'outside'} the box`);
  }
  // Source and class names come from the input (a file name, a model's metadata): escaped line by line.
  process.stdout.write(`${lines.map(terminalSafe).join('\n')}\n`);
}
