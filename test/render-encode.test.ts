import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { encodeImage, renderToPng, saveImage } from '../src/render/encode.js';
import { renderFrame } from '../src/render/overlay.js';
import { UserError } from '../src/errors.js';
import type { RenderedFrame, RenderOptions } from '../src/types.js';
import { TEST1_CARS, explained, gaussMap, loadFrame } from './render-fixtures.js';

const OPTS: RenderOptions = { colormap: 'inferno', alpha: 0.5, view: 'blend', boxes: true, legend: true };

let rendered: RenderedFrame;
const dir = mkdtempSync(join(tmpdir(), 'saliencam-render-'));
beforeAll(async () => {
  const frame = await loadFrame('test2.jpg');
  rendered = await renderFrame(explained(frame, TEST1_CARS, [gaussMap('car', 2, 0.7, 0.6)]), OPTS);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('encodeImage', () => {
  it('PNG round-trips the exact pixels', async () => {
    const png = await encodeImage(rendered, 'png');
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([rendered.width, rendered.height, 3]);
    expect(Buffer.compare(data, Buffer.from(rendered.rgb))).toBe(0);
  });

  it('JPEG and WebP come out at the frame size, smaller at lower quality', async () => {
    for (const format of ['jpeg', 'webp'] as const) {
      const hi = await encodeImage(rendered, format, 95);
      const lo = await encodeImage(rendered, format, 30);
      const meta = await sharp(hi).metadata();
      expect(meta.format).toBe(format);
      expect([meta.width, meta.height]).toEqual([rendered.width, rendered.height]);
      expect(lo.length).toBeLessThan(hi.length);
    }
    await expect(encodeImage(rendered, 'jpeg', 0)).rejects.toThrow(UserError);
  });

  it('renderToPng renders and encodes in one call', async () => {
    const png = await renderToPng(rendered.explained, OPTS);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('saveImage', () => {
  it('writes the format named by the extension, leaving no temporary file', async () => {
    const path = join(dir, 'out.JPG');
    await saveImage(rendered, path);
    expect((await sharp(path).metadata()).format).toBe('jpeg');
    expect(readdirSync(dir)).toEqual(['out.JPG']);
  });

  it('refuses unknown extensions and unwritable places with a UserError', async () => {
    await expect(saveImage(rendered, join(dir, 'out.gif'))).rejects.toThrow(/\.png/);
    await expect(saveImage(rendered, join(dir, 'missing', 'out.png'))).rejects.toThrow(UserError);
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });
});
