// Shared fixtures for the render tests: a real dashcam still as a Frame, and synthetic saliency maps.

import { join } from 'node:path';
import sharp from 'sharp';
import type { Detection, ExplainedFrame, Frame, SaliencyMap } from '../src/types.js';

export const CLIPS = process.env.SALIENCAM_CLIPS ?? 'clips';

/** Decode a still from the clips folder to a packed-RGB Frame. */
export async function loadFrame(name = 'test1.jpg'): Promise<Frame> {
  const { data, info } = await sharp(join(CLIPS, name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { index: 0, time: 0, width: info.width, height: info.height, rgb: new Uint8Array(data) };
}

/** A map with one Gaussian hot spot at (cx, cy), given as fractions of the frame, sigma as a fraction of the width. */
export function gaussMap(
  label: string,
  classId: number,
  cx: number,
  cy: number,
  sigma = 0.06,
  width = 128,
  height = 128,
  extra: Partial<SaliencyMap> = {},
): SaliencyMap {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (x + 0.5) / width - cx;
      const dy = (y + 0.5) / height - cy;
      data[y * width + x] = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
    }
  }
  return { label, classId, width, height, data, ...extra };
}

/** A map with a constant value everywhere. */
export function flatMap(label: string, classId: number, value: number, width = 128, height = 128): SaliencyMap {
  return { label, classId, width, height, data: new Float32Array(width * height).fill(value) };
}

/** Cars as they appear in test1.jpg. */
export const TEST1_CARS: Detection[] = [
  { label: 'car', classId: 2, score: 0.91, box: [815, 410, 942, 492] },
  { label: 'car', classId: 2, score: 0.88, box: [1052, 405, 1268, 505] },
];

export function explained(frame: Frame, detections: Detection[], maps: SaliencyMap[]): ExplainedFrame {
  return {
    frame,
    detections,
    maps,
    record: {
      source: 'test1.jpg',
      width: frame.width,
      height: frame.height,
      model: 'test',
      backend: 'cpu',
      method: 'xgradcam',
      detections,
      saliency: [],
      timing: { detectMs: 0, saliencyMs: 0, totalMs: 0 },
    },
  };
}

/** Pixel [r, g, b] of a packed-RGB buffer. */
export function px(rgb: Uint8Array, width: number, x: number, y: number): [number, number, number] {
  const i = (y * width + x) * 3;
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
}
