// A gallery thumbnail: the frame with one detection's box and the map explaining it, as a small JPEG.
import { DEFAULT_METHOD } from '../saliency/methods/index.js';
import sharp from 'sharp';
import { renderFrame } from '../render/index.js';
import type { Detection, ExplainRecord, Frame, SaliencyMap } from '../types.js';

export interface ThumbnailOptions {
  /** Thumbnail width in pixels (height keeps the aspect ratio); never wider than the frame. */
  width: number;
  quality: number;
}

export async function detectionThumbnail(
  frame: Frame,
  detection: Detection,
  map: SaliencyMap,
  model: string,
  backend: string,
  options: ThumbnailOptions = { width: 480, quality: 75 },
): Promise<Uint8Array> {
  // The renderer reads the record only for its legend, which a thumbnail does not draw; the method field
  // cannot name 'ig', and the caption below the image says which method it is.
  const record: ExplainRecord = {
    source: '',
    width: frame.width,
    height: frame.height,
    model,
    backend,
    method: DEFAULT_METHOD,
    detections: [detection],
    saliency: [],
    timing: { detectMs: 0, saliencyMs: 0, totalMs: 0 },
  };
  const rendered = await renderFrame(
    { frame, detections: [detection], maps: [map], record },
    { colormap: 'turbo', alpha: 0.6, view: 'blend', boxes: true, legend: false },
  );
  const buf = Buffer.from(rendered.rgb.buffer, rendered.rgb.byteOffset, rendered.rgb.byteLength);
  const jpeg = await sharp(buf, { raw: { width: rendered.width, height: rendered.height, channels: 3 } })
    .resize({ width: Math.min(options.width, rendered.width) })
    .jpeg({ quality: options.quality })
    .toBuffer();
  return new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
}
