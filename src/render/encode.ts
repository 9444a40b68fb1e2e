// Still-image output of a rendered frame.

import { extname } from 'node:path';
import sharp from 'sharp';
import type { ExplainedFrame, RenderOptions, RenderedFrame } from '../types.js';
import { UserError, oneLine } from '../errors.js';
import { writeFileAtomic } from '../video/atomic.js';
import { asBuffer } from './raster.js';
import { renderFrame } from './overlay.js';

export type ImageFormat = 'jpeg' | 'webp' | 'png';

/** Encode a rendered frame. `quality` (1..100) applies to jpeg and webp; default 90. */
export async function encodeImage(rendered: RenderedFrame, format: ImageFormat, quality = 90): Promise<Buffer> {
  if (!(quality >= 1 && quality <= 100)) throw new UserError(`image quality must be between 1 and 100, got ${quality}`);
  const q = Math.round(quality);
  const img = sharp(asBuffer(rendered.rgb), { raw: { width: rendered.width, height: rendered.height, channels: 3 } });
  switch (format) {
    case 'jpeg':
      // Without Huffman table optimisation: 720p (test1.jpg) encodes in ~4 ms of CPU instead of 9–14, for 1 % more
      // bytes; the dashboard encodes every frame it shows.
      return img.jpeg({ quality: q, optimiseCoding: false }).toBuffer();
    case 'webp':
      return img.webp({ quality: q }).toBuffer();
    case 'png':
      // Level 6: most of the size win of 9 at a fraction of the time.
      return img.png({ compressionLevel: 6 }).toBuffer();
    default:
      throw new UserError(`unknown image format "${String(format)}" (expected jpeg, webp or png)`);
  }
}

/** Image format from a file name's extension, or null if it is not one we write. */
export function imageFormatOf(path: string): ImageFormat | null {
  const ext = extname(path).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.webp') return 'webp';
  if (ext === '.png') return 'png';
  return null;
}

/**
 * Write a rendered frame to `path` (format from the extension). Written to a temporary name in the same
 * directory and renamed, so a crash never leaves a truncated image under the real name.
 */
export async function saveImage(rendered: RenderedFrame, path: string, quality?: number): Promise<void> {
  const format = imageFormatOf(path);
  if (!format) throw new UserError(`cannot write "${path}": use a .jpg, .jpeg, .webp or .png file name`);
  const data = await encodeImage(rendered, format, quality);
  try {
    await writeFileAtomic(path, data);
  } catch (err) {
    throw err instanceof UserError ? err : new UserError(`cannot write "${path}": ${oneLine(err)}`);
  }
}

/** Render and encode as PNG in one call (tests, quick looks). */
export async function renderToPng(explained: ExplainedFrame, opts: RenderOptions): Promise<Buffer> {
  return encodeImage(await renderFrame(explained, opts), 'png');
}
