// End to end: `saliencam serve test_video.mp4` (the real command, real engine) in a child process, the
// dashboard in headless Chromium. Frames arrive and change the canvas, hiding a class changes the next
// frames' metadata, the slider and the timeline chart seek, and SIGTERM stops the server with exit code 0.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FrameMessage } from '../src/server/messages.js';
import { chromiumMissing, launchChromium } from './helpers/chromium.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';
import { buildWebIfStale, serveCli } from './helpers/serve-cli.js';

const ARTIFACTS = 'test-artifacts';

describe('dashboard in a browser', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('plays the drive, toggles a class, seeks, and stops cleanly', { timeout: 240_000 }, async (ctx) => {
    const missing = chromiumMissing();
    if (missing) {
      console.warn(`server-e2e: skipped, ${missing}`);
      ctx.skip(missing);
    }
    buildWebIfStale();
    const server = await serveCli([clipPath(TEST_VIDEO), '--port', '0', '--loop']);
    child = server.child;
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const origin = new URL(server.url).origin;

    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const foreign: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('request', (r) => !r.url().startsWith(origin) && !r.url().startsWith('ws://127.0.0.1') && !r.url().startsWith('data:') && foreign.push(r.url()));
      await page.goto(server.url);
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('open');

      // Frames arrive: the canvas fills, then changes.
      const drawn = (): Promise<number> => page.evaluate(() => window.__saliencam.framesDrawn);
      const canvasHash = (): Promise<number> =>
        page.evaluate(() => {
          const c = document.getElementById('view') as HTMLCanvasElement;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let h = 0;
          for (let i = 0; i < d.length; i += 97) h = (h * 31 + d[i]!) | 0;
          return h;
        });
      await expect.poll(drawn, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
      const blank = await canvasHash();
      const first = await drawn();
      await expect.poll(drawn, { timeout: 30_000 }).toBeGreaterThan(first);
      expect(await canvasHash()).not.toBe(blank);
      const last = await page.evaluate(() => window.__saliencam.lastFrame!);
      expect(last.record.model).toBe('centernet');
      expect(last.stats.backend).toBe(await page.locator('[data-fig="backend"]').textContent());
      expect(last.record.detections.some((d) => d.label === 'car')).toBe(true);

      // The timeline chart plots every frame processed so far, all of them in view.
      await expect.poll(async () => (await page.evaluate(() => window.__saliencam.chart!())).points, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const chart = await page.evaluate(() => window.__saliencam.chart!());
      expect(chart.visible).toEqual([0, chart.points - 1]);
      expect(chart.classes).toContain('car');

      // Hide "car": the next frames are explained without it.
      await page.locator('input[data-class="car"]').click();
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.settings.hiddenClasses ?? []), { timeout: 10_000 }).toContain('car');
      const seqAtToggle = await page.evaluate(() => window.__saliencam.lastFrame!.seq);
      // The frame in the pipeline when the command came may still have cars; the one after it may not.
      const framesAfter = (): Promise<FrameMessage[]> => page.evaluate((s) => window.__saliencam.frames.filter((f) => f.seq > s), seqAtToggle);
      await expect.poll(async () => (await framesAfter()).length, { timeout: 40_000 }).toBeGreaterThanOrEqual(2);
      const second = (await framesAfter())[1]!;
      expect(second.record.detections.map((d) => d.label)).not.toContain('car');
      expect(second.record.saliency.map((s) => s.label)).not.toContain('car');
      expect(Object.keys(second.timeline.classes)).not.toContain('car');
      expect(await page.locator('input[data-class="car"]').isChecked()).toBe(false);

      // Pause, then seek with the slider: the next frame is the one at 1.00 s.
      await page.locator('#play').click();
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.playing), { timeout: 10_000 }).toBe(false);
      const seqBeforeSeek = await page.evaluate(() => window.__saliencam.lastFrame!.seq);
      await page.locator('#seek').fill('1');
      const frameAfter = (seq: number) => page.evaluate((s) => window.__saliencam.frames.find((f) => f.seq > s)?.frame ?? null, seq);
      // A frame already in the pipeline may land first; the seek's frame follows.
      await expect.poll(async () => page.evaluate((s) => window.__saliencam.frames.filter((f) => f.seq > s).map((f) => f.frame), seqBeforeSeek), { timeout: 30_000 }).toContain(25);
      await expect.poll(() => page.locator('#clock').textContent(), { timeout: 10_000 }).toContain('1.00 s');

      // Click a quarter of the way along the timeline chart: seeks there.
      const over = page.locator('#chart .u-over').first();
      // The chart rebuilds when its classes change (a hidden class, a seek): wait for the current one.
      await over.waitFor({ state: 'visible' });
      const box = (await over.boundingBox())!;
      const seqBeforeClick = await page.evaluate(() => window.__saliencam.lastFrame!.seq);
      await over.click({ position: { x: box.width * 0.25, y: box.height / 2 } });
      const expected = Math.floor(0.25 * 1.52 * 25);
      await expect.poll(() => frameAfter(seqBeforeClick), { timeout: 30_000 }).not.toBeNull();
      expect(Math.abs((await frameAfter(seqBeforeClick))! - expected)).toBeLessThanOrEqual(1);

      await page.waitForTimeout(400); // the chart redraws a few times a second
      const end = await page.evaluate(() => ({ chart: window.__saliencam.chart!(), frames: new Set(window.__saliencam.frames.map((f) => f.frame)).size }));
      expect(end.chart.points).toBeGreaterThanOrEqual(end.frames);
      expect(end.chart.visible).toEqual([0, end.chart.points - 1]);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-e2e.png') });
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await close();
    }

    // SIGTERM: decoder, server and engine closed, exit code 0.
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(server.output()).toContain('stopping');
  });
});
