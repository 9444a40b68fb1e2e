// The annotated clip: H.264 in mp4, through the encoder (video/encode.ts), which writes to an atomic target.
import { UserError } from '../errors.js';
import { checkOutputPath } from '../video/atomic.js';
import { openEncoder, type Encoder } from '../video/encode.js';
import type { FrameOutput, OutputContext, OutputFormatRow } from './output.js';

/** The output table's row (index.ts). */
export const mp4Output: OutputFormatRow = {
  title: 'H.264 mp4',
  help: 'annotated video',
  placeholder: 'file.mp4',
  extensions: ['.mp4', '.m4v', '.mov'],
  misnamed: 'the annotated clip is H.264 in mp4; name it .mp4 (or .mcap, or use --format fiftyone with a folder)',
  check: async (path) => void (await checkOutputPath(path)),
  open: async (path, ctx) => openMp4Output(path, ctx),
};

function openMp4Output(path: string, ctx: OutputContext): FrameOutput {
  let encoder: Encoder | undefined;
  return {
    async write(r) {
      // Opened on the first frame: a stdin source only knows its size once ffmpeg has read its header.
      encoder ??= await openEncoder(path, {
        width: r.width,
        height: r.height,
        fps: ctx.info.fps > 0 ? ctx.info.fps : 25,
        ...(ctx.audioFrom ? { audioFrom: ctx.audioFrom } : {}),
      });
      await encoder.write(r.rgb);
    },
    async finish() {
      if (!encoder) throw new UserError(`nothing written to ${path}: no frames were encoded`);
      return encoder.finish();
    },
    async abort() {
      await encoder?.abort();
    },
  };
}
