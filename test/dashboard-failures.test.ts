// The dashboard's failure questions in headless Chromium, against the real `serve` on the sample drive, paused:
// drag a box + pick a class → the why-not answer (best score, map) for that box; click a detection + pick another
// class → contrastive maps marked `versus`; the heat-per-box toggle reaches the settings.
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from './helpers/chromium.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';
import { buildWebIfStale, serveCli } from './helpers/serve-cli.js';

describe('dashboard: why not here, why this rather than that', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('answers a dragged region and a clicked detection on the paused frame', { timeout: 240_000 }, async (ctx) => {
    const missing = chromiumMissing();
    if (missing) ctx.skip(missing);
    buildWebIfStale();
    const server = await serveCli([clipPath(TEST_VIDEO), '--port', '0']);
    child = server.child;
    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(server.url);
      await expect.poll(() => page.evaluate(() => window.__saliencam.framesDrawn), { timeout: 90_000 }).toBeGreaterThanOrEqual(1);
      const seq = () => page.evaluate(() => window.__saliencam.lastFrame!.seq);
      // Questions are asked of the paused frame: pause (playing, a drag is refused with a notice).
      await page.locator('#play').click();
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.playing), { timeout: 10_000 }).toBe(false);

      // Source pixels → page pixels (the canvas shows the 1280×720 frame, object-fit: contain).
      const canvas = (await page.locator('#view').boundingBox())!;
      const scale = Math.min(canvas.width / 1280, canvas.height / 720);
      const ox = canvas.x + (canvas.width - 1280 * scale) / 2;
      const oy = canvas.y + (canvas.height - 720 * scale) / 2;
      const toPage = (x: number, y: number) => ({ x: ox + x * scale, y: oy + y * scale });

      // Drag a box on the road ahead with "truck" picked.
      await page.locator('#why-class').selectOption('truck');
      const before = await seq();
      const a = toPage(500, 380);
      const b = toPage(700, 500);
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
      await page.mouse.move(b.x, b.y, { steps: 4 });
      await page.mouse.up();
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.settings.why ?? []), { timeout: 10_000 }).toHaveLength(1);
      const region = (await page.evaluate(() => window.__saliencam.state!.settings.why[0]!))!;
      expect(region.label).toBe('truck');
      region.box.forEach((v, i) => expect(Math.abs(v - [500, 380, 700, 500][i]!)).toBeLessThanOrEqual(3));
      // The paused frame comes back explained again, with the answer.
      await expect.poll(() => page.evaluate((s) => window.__saliencam.lastFrame!.seq > s && (window.__saliencam.lastFrame!.record.why?.length ?? 0) > 0, before), { timeout: 60_000 }).toBe(true);
      const why = (await page.evaluate(() => window.__saliencam.lastFrame!.record.why!))[0]!;
      expect(why.label).toBe('truck');
      expect(why.bestScore).toBeGreaterThan(0);
      expect(why.bestScore).toBeLessThan(1);
      expect(why.cells).toBeGreaterThan(0);
      await expect.poll(() => page.locator('#why-result').textContent(), { timeout: 10_000 }).toContain(`best ${why.bestScore.toFixed(3)}`);

      // Click the first detection, pick "truck": contrastive per-detection maps.
      const det = (await page.evaluate(() => window.__saliencam.lastFrame!.record.detections.find((d) => d.label === 'car')!))!;
      const c = toPage((det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2);
      await page.mouse.click(c.x, c.y);
      const beforeVersus = await seq();
      await page.locator('#versus-class').selectOption('truck');
      await expect.poll(() => page.evaluate(() => [window.__saliencam.state?.settings.perDetection, window.__saliencam.state?.settings.versus]), { timeout: 10_000 }).toEqual([true, 'truck']);
      await expect.poll(() => page.evaluate((s) => window.__saliencam.lastFrame!.seq > s && window.__saliencam.lastFrame!.record.saliency.some((x) => x.versus === 'truck'), beforeVersus), { timeout: 60_000 }).toBe(true);
      await expect.poll(() => page.locator('#versus-result').textContent(), { timeout: 10_000 }).toContain('rather than truck');

      // Back to per-class maps: the contrast goes with the per-detection maps.
      await page.locator('#maps-class').check({ force: true });
      await expect.poll(() => page.evaluate(() => [window.__saliencam.state?.settings.perDetection, window.__saliencam.state?.settings.versus]), { timeout: 10_000 }).toEqual([false, null]);

      // Heat per box.
      await page.locator('#normalise-box').check();
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.settings.normalise), { timeout: 10_000 }).toBe('box');
      // Clearing both questions.
      await page.locator('#why-clear').click();
      await page.locator('#versus-clear').click();
      await expect.poll(() => page.evaluate(() => [window.__saliencam.state?.settings.why.length, window.__saliencam.state?.settings.versus]), { timeout: 10_000 }).toEqual([0, null]);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
    child.kill('SIGTERM');
  });
});
