// Reading a still image into a Frame, with one-line errors for the ways it can go wrong.
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { oneLine, UserError } from '../errors.js';
import type { Frame } from '../types.js';

/** Images larger than this are refused rather than exhausting memory (8000x8000 RGB is 192 MB). */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

export async function readImageFrame(path: string): Promise<Frame> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new UserError(`${path} is a directory, not an image`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(err)})`);
  }
  if (size === 0) throw new UserError(`${path} is empty (0 bytes)`);
  try {
    const { data, info } = await sharp(path, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
      .rotate() // honour EXIF orientation, as a viewer would
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new UserError(`${path}: expected an RGB image, got ${info.channels} channels`);
    return { index: 0, time: 0, width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    if (err instanceof UserError) throw err;
    const msg = oneLine(err);
    if (/pixel limit/i.test(msg)) throw new UserError(`${path}: image too large (limit ${MAX_IMAGE_PIXELS} pixels)`);
    throw new UserError(`${path} is not a readable image (${msg})`);
  }
}
