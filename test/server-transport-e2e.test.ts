// The dashboard's transport against the worker-pool pipeline: `saliencam serve --workers 2` (the real command,
// real engine in two worker threads) driven from headless Chromium. Paused, each control must show exactly
// the frame asked for (nothing stale from before a seek); a method switch re-explains the paused frame with
// the new method; a seek while playing drops the frames in flight, so nothing older follows the target.
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { FrameMessage } from '../src/server/messages.js';
import { chromiumMissing, launchChromium } from './helpers/chromium.js';
import { clipPath, TEST_VIDEO } from './helpers/clips.js';
import { buildWebIfStale, serveCli } from './helpers/serve-cli.js';

describe('dashboard transport on the worker pool', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('step, seek, step back, method switch, play and seek while playing show the frame asked for', { timeout: 480_000 }, async (ctx) => {
    const missing = chromiumMissing();
    if (missing) {
      console.warn(`server-transport-e2e: skipped, ${missing}`);
      ctx.skip(missing);
    }
    buildWebIfStale();
    const server = await serveCli([clipPath(TEST_VIDEO), '--port', '0', '--paused', '--workers', '2', '--max-fps', '0']);
    child = server.child;
    expect(server.output()).toMatch(/in 2 worker threads/);

    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      const seq = (): Promise<number> => page.evaluate(() => window.__saliencam.lastFrame?.seq ?? 0);
      const after = (s: number): Promise<FrameMessage[]> => page.evaluate((x) => window.__saliencam.frames.filter((f) => f.seq > x), s);
      /** Does `act`, waits for the next frame drawn, checks it is the only one (paused), returns it. */
      const oneFrame = async (act: () => Promise<void>): Promise<FrameMessage> => {
        const s = await seq();
        await act();
        await expect.poll(async () => (await after(s)).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
        await page.waitForTimeout(1500); // a stale frame would land in this time
        const got = await after(s);
        expect(got.map((f) => f.frame)).toHaveLength(1);
        return got[0]!;
      };

      // Started paused: the first frame only (shown before this page connected; the state says where it is).
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.position?.frame ?? null), { timeout: 120_000 }).toBe(0);
      expect((await oneFrame(() => page.locator('#step').click())).frame).toBe(1);
      expect((await oneFrame(() => page.locator('#seek').fill('1'))).frame).toBe(25);
      expect((await oneFrame(() => page.locator('#step-back').click())).frame).toBe(24);
      const switched = await oneFrame(() => page.locator('#method').selectOption('gradcam').then(() => undefined));
      expect(switched.frame).toBe(24);
      expect(switched.record.method).toBe('gradcam');

      // A method's parameters (hello's methodParams): polycam's variant field is there, hidden while another method
      // is on; a change is a `set` of methodParams.polycam that the state carries back.
      const variant = page.locator('#param-polycam-variant');
      expect(await variant.isHidden()).toBe(true);
      expect(await variant.inputValue()).toBe('plus');
      await page.evaluate(() => {
        const v = document.getElementById('param-polycam-variant') as HTMLSelectElement;
        v.value = 'minus';
        v.dispatchEvent(new Event('change'));
      });
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.settings.methodParams.polycam.variant), { timeout: 10_000 }).toBe('minus');

      // Playing: frames follow in order; a seek drops what is in flight, the target comes next, then its successors.
      await page.locator('#play').click();
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.playing), { timeout: 10_000 }).toBe(true);
      const s0 = await seq();
      await expect.poll(async () => (await after(s0)).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
      const played = (await after(s0)).map((f) => f.frame);
      expect(played).toEqual([...played].sort((a, b) => a - b));
      const s1 = await seq();
      await page.evaluate(() => {
        const seek = document.getElementById('seek') as HTMLInputElement;
        seek.value = '0.4';
        seek.dispatchEvent(new Event('change'));
      });
      await expect.poll(async () => (await after(s1)).map((f) => f.frame), { timeout: 60_000 }).toContain(10);
      await expect.poll(async () => (await after(s1)).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
      const sinceSeek = (await after(s1)).map((f) => f.frame);
      const at = sinceSeek.indexOf(10);
      // Before the target, at most frames already on the wire when the seek was sent; after it, never older.
      expect(at).toBeLessThanOrEqual(2);
      expect(sinceSeek.slice(at)).toEqual(sinceSeek.slice(at).map((_, i) => 10 + i));
      await page.locator('#play').click();
      await expect.poll(() => page.evaluate(() => window.__saliencam.state?.playing), { timeout: 10_000 }).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
