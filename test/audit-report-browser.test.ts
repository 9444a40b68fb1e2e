// Opens the report in headless Chromium: it must render offline (no requests but the file itself), show the
// tables, draw the chart and decode the thumbnails. Skipped, with the reason shown, where Chromium is absent.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderAuditReport } from '../src/audit/report.js';
import { DEFAULT_AUDIT_SETTINGS, type DetectionAudit } from '../src/audit/types.js';

const CHROMIUM = process.env.SALIENCAM_CHROMIUM ?? '/usr/bin/chromium';

describe('audit report in a browser', () => {
  it('renders offline: tables, chart and thumbnails', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      console.warn(`audit-report-browser: skipped, no Chromium at ${CHROMIUM} (set SALIENCAM_CHROMIUM to run it)`);
      ctx.skip(`no Chromium at ${CHROMIUM}`);
    }
    const { chromium } = await import('playwright-core');
    const jpeg = new Uint8Array(await sharp({ create: { width: 32, height: 18, channels: 3, background: '#c83030' } }).jpeg().toBuffer());
    const detections: DetectionAudit[] = Array.from({ length: 10 }, (_, f) => ({
      frame: f * 5,
      time: f * 0.2,
      detectionIndex: 0,
      label: f % 2 ? 'car' : 'person',
      classId: f % 2 ? 2 : 0,
      score: 0.8,
      box: [0, 0, 10, 10],
      methods: {
        xgradcam: { deletionAuc: 0.2, insertionAuc: 0.7, energyInBoxes: 0.5 + 0.03 * f, pointingHit: 1 },
        eigencam: { deletionAuc: 0.3, insertionAuc: 0.6, energyInBoxes: 0.4, pointingHit: 0 },
      },
      random: { deletionAuc: 0.5, insertionAuc: 0.5, energyInBoxes: 0.1, pointingHit: 0.1 },
    }));
    const html = renderAuditReport({
      source: 'drive.mp4',
      model: 'centernet',
      backend: 'cpu',
      createdAt: new Date(0).toISOString(),
      methods: ['xgradcam', 'eigencam'],
      settings: { ...DEFAULT_AUDIT_SETTINGS },
      detections,
      temporal: [],
      gallery: [{ frame: 0, time: 0, method: 'eigencam', label: 'person', energyInBoxes: 0.4, jpeg }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'saliencam-audit-'));
    const file = join(dir, 'report.html');
    await writeFile(file, html);
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href);
      expect(await page.locator('#summary tbody tr').count()).toBe(3);
      expect(await page.locator('#classes tbody tr').count()).toBe(6);
      const chart = await page.locator('#timeline svg').boundingBox();
      expect(chart!.width).toBeGreaterThan(200);
      expect(await page.locator('#timeline polyline').count()).toBe(3);
      expect(await page.locator('#gallery img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(32);
      expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
