// Real stills as Frames, for engine tests.
import sharp from 'sharp';
import type { Frame } from '../../src/types.js';
import { clipPath } from './clips.js';

export async function stillFrame(name: string): Promise<Frame> {
  const { data, info } = await sharp(clipPath(name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { index: 0, time: 0, width: info.width, height: info.height, rgb: new Uint8Array(data) };
}

export const STILLS = ['test1.jpg', 'test2.jpg', 'test3.jpg', 'test4.jpg', 'test5.jpg', 'test6.jpg'];
