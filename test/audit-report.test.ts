import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregate, meanCurve, spread } from '../src/audit/aggregate.js';
import { renderAuditReport, toAuditJson } from '../src/audit/report.js';
import { DEFAULT_AUDIT_SETTINGS, type AuditReportData, type DetectionAudit } from '../src/audit/types.js';
import { WorstKeeper, worstDetections } from '../src/audit/worst.js';
import { writeAuditJson, writeAuditReport, writeFileAtomic } from '../src/audit/write.js';
import { UserError } from '../src/errors.js';
import { metricSettings } from '../src/audit/settings.js';
import { DEFAULT_AUDIT } from '../src/settings.js';

function det(frame: number, label: string, g: number, x: number, trackId = 0): DetectionAudit {
  return {
    frame,
    time: frame / 25,
    detectionIndex: 0,
    label,
    classId: label === 'car' ? 2 : 0,
    score: 0.8,
    box: [0, 0, 10, 10],
    trackId,
    methods: {
      gradcam: { deletionAuc: 0.2 + g, insertionAuc: 0.7, energyInBoxes: 0.6 + g, areaInBoxes: 0.1, pointingHit: 1, maxSensitivity: 0.1, msPerMap: 20, deletionCurve: [1, 0.2 + g, 0], insertionCurve: [0.3, 1.3, 1] },
      xgradcam: { deletionAuc: 0.3, insertionAuc: 0.6 + x, energyInBoxes: 0.5, areaInBoxes: 0.1, pointingHit: 0, msPerMap: 25 },
    },
    random: { deletionAuc: 0.5, insertionAuc: 0.5, energyInBoxes: 0.1, areaInBoxes: 0.1, pointingHit: 0.25, maxSensitivity: 0.7 },
  };
}

let jpeg: Uint8Array;
let data: AuditReportData;
beforeAll(async () => {
  jpeg = new Uint8Array(await sharp({ create: { width: 16, height: 9, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer());
  data = {
    source: 'drive <1>.mp4',
    model: 'centernet',
    backend: 'cpu',
    createdAt: '2025-01-01T00:00:00.000Z',
    methods: ['gradcam', 'xgradcam'],
    settings: { ...DEFAULT_AUDIT_SETTINGS, extra: { every: 5 } },
    framesSampled: 4,
    detections: [det(0, 'car', 0, 0), det(1, 'car', 0.1, 0.2), det(2, 'person', -0.1, 0.1, 1), { ...det(3, 'car', 0, 0), methods: { gradcam: { energyInBoxes: 0.05, deletionAuc: NaN } }, random: {} }],
    temporal: [
      { method: 'gradcam', trackId: 0, label: 'car', classId: 2, transitions: 3, meanChange: 0.1 },
      { method: 'gradcam', trackId: 1, label: 'person', classId: 0, transitions: 1, meanChange: 0.5 },
      { method: 'random', trackId: 0, label: 'car', classId: 2, transitions: 3, meanChange: 0.33 },
    ],
    gallery: [{ frame: 3, time: 0.12, method: 'gradcam', label: 'car', energyInBoxes: 0.05, jpeg }],
  };
});

describe('aggregate', () => {
  it('spread gives mean, sample std and n of the finite values', () => {
    expect(spread([1, 2, 3, NaN, undefined])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(spread([5])).toEqual({ mean: 5, std: 0, n: 1 });
    expect(spread([]).n).toBe(0);
    expect(spread([0, 1], [3, 1]).mean).toBeCloseTo(0.25, 12);
  });

  it('meanCurve averages the complete curves pointwise', () => {
    expect(meanCurve([[1, 0.5, 0], undefined, [1, 0.3, 0.2], [1, NaN, 0]])).toEqual([1, 0.4, 0.1]);
    expect(meanCurve([undefined])).toBeUndefined();
  });

  it('builds one row per method plus random, overall and per class', () => {
    const s = aggregate(data.detections, data.temporal, data.methods);
    expect(s.overall.map((r) => r.method)).toEqual(['gradcam', 'xgradcam', 'random']);
    const g = s.overall[0]!;
    expect(g.detections).toBe(4);
    expect(g.deletionAuc.n).toBe(3); // the NaN AUC is left out
    expect(g.deletionAuc.mean).toBeCloseTo(0.2, 12);
    expect(g.energyInBoxes.mean).toBeCloseTo((0.6 + 0.7 + 0.5 + 0.05) / 4, 12);
    expect(g.pointingHitRate.mean).toBe(1);
    // temporal: weighted by transitions (3 x 0.1 + 1 x 0.5) / 4
    expect(g.temporalChange.mean).toBeCloseTo(0.2, 12);
    expect(s.overall[1]!.detections).toBe(3);
    expect(s.overall[2]!.temporalChange.mean).toBeCloseTo(0.33, 12);
    expect(s.perClass.map((r) => `${r.label}/${r.method}`)).toEqual([
      'car/gradcam', 'car/xgradcam', 'car/random', 'person/gradcam', 'person/xgradcam', 'person/random',
    ]);
    expect(s.perClass[3]!.temporalChange.mean).toBeCloseTo(0.5, 12);
  });
});

describe('renderAuditReport', () => {
  it('is one self-contained HTML file with the table rows, charts, gallery and settings', () => {
    const html = renderAuditReport(data);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const m of ['gradcam', 'xgradcam', 'random']) expect(html).toContain(`<tr${m === 'random' ? ' class="random"' : ''} data-method="${m}">`);
    expect(html).toContain('data-class="person"');
    expect(html).toContain('Deletion AUC ↓');
    expect(html).toContain('Insertion AUC ↑');
    expect(html).toContain('0.200 <span class="sd">[0.100, 0.300]</span> <span class="n">n=3</span>'); // gradcam deletion: mean [95 % interval]
    // one person detection (one frame): an interval of zero width from one cluster is not evidence
    const person = html.slice(html.indexOf('data-class="person"'));
    expect(person.slice(0, person.indexOf('</tr>'))).not.toContain('class="sig"');
    expect(html).toContain('<section id="comparisons">');
    expect(html).toContain(`data:image/jpeg;base64,${Buffer.from(jpeg).toString('base64')}`);
    expect(html).toContain('<svg');
    expect(html).toMatch(/<polyline[^>]+stroke-dasharray/); // the random baseline series
    expect(html).toContain('<th scope="row">every</th><td>5</td>');
    expect(html).toContain('How to read each metric');
    // mean deletion/insertion curves: gradcam has curves; its insertion overshoots to 1.3, and the axis extends
    // so that point sits at the top of the plot (y = 12, the top margin) instead of being clipped at 1
    const curves = html.slice(html.indexOf('<section id="curves">'), html.indexOf('<section id="gallery">'));
    expect(curves.match(/<svg/g)).toHaveLength(2);
    expect(curves).toMatch(/<circle cx="[\d.]+" cy="12.0" r="2.6" fill="#1f77b4"><title>gradcam: 1.300 at 0.50<\/title>/);
    // escaped, and nothing fetched from the network
    expect(html).toContain('drive &lt;1&gt;.mp4');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toContain('<script');
  });

  it('refuses a thumbnail that is not a JPEG', () => {
    expect(() => renderAuditReport({ ...data, gallery: [{ ...data.gallery[0]!, jpeg: Uint8Array.of(0x89, 0x50, 0x4e) }] })).toThrow(/JPEG/);
  });

  it('renders an empty audit without failing', () => {
    const html = renderAuditReport({ ...data, detections: [], temporal: [], gallery: [] });
    expect(html).toContain('No detections.');
    expect(html).toContain('data-method="random"');
  });
});

describe('toAuditJson', () => {
  it('is the report data minus the images plus the summary, and survives JSON', () => {
    const j = JSON.parse(JSON.stringify(toAuditJson(data)));
    expect(j.gallery[0]).toEqual({ frame: 3, time: 0.12, method: 'gradcam', label: 'car', energyInBoxes: 0.05 });
    expect(Object.keys(j.summary.overall)).toEqual(['gradcam', 'xgradcam', 'random']);
    // every method and metric: { mean, ci95: [lo, hi], n }, the mean inside its interval
    for (const m of Object.values(j.summary.overall) as Record<string, { mean: number; ci95: [number, number]; n: number }>[]) {
      const d = m.deletionAuc!;
      expect(d.n).toBeGreaterThan(0);
      expect(d.ci95[0]).toBeLessThanOrEqual(d.mean);
      expect(d.ci95[1]).toBeGreaterThanOrEqual(d.mean);
    }
    expect(j.summary.comparisons.some((c: { a: string; b: string }) => c.a === 'gradcam' && c.b === 'random')).toBe(true);
    expect(j.detections).toHaveLength(4);
    expect(j.detections[3].methods.gradcam.deletionAuc).toBeNull(); // NaN -> null
    expect(j.settings.steps).toBe(10);
  });
});

describe('worst frames', () => {
  it('picks the lowest energy per frame and method', () => {
    const w = worstDetections(data.detections, 2);
    expect(w.map((c) => [c.frame, c.method, c.energyInBoxes])).toEqual([
      [3, 'gradcam', 0.05],
      [0, 'xgradcam', 0.5],
    ]);
  });
  it('WorstKeeper keeps only the lowest values', () => {
    const k = new WorstKeeper<string>(2);
    for (const [v, s] of [[0.5, 'a'], [0.2, 'b'], [0.9, 'c'], [0.1, 'd']] as const) k.offer(v, s);
    expect(k.items().map((i) => i.item)).toEqual(['d', 'b']);
    expect(k.wouldKeep(0.3)).toBe(false);
    expect(k.wouldKeep(0.15)).toBe(true);
  });
});

describe('writing the outputs', () => {
  it('writes whole files and leaves no temp files; an unwritable path is a UserError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'saliencam-audit-'));
    try {
      await writeAuditReport(join(dir, 'audit.html'), data);
      await writeAuditJson(join(dir, 'audit.json'), data);
      expect((await readdir(dir)).sort()).toEqual(['audit.html', 'audit.json']);
      expect(Object.keys(JSON.parse(await readFile(join(dir, 'audit.json'), 'utf8')).summary.overall)).toHaveLength(3);
      expect(await readFile(join(dir, 'audit.html'), 'utf8')).toContain('</html>');
      await expect(writeFileAtomic(join(dir, 'missing', 'x.html'), 'x')).rejects.toThrow(UserError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('metricSettings', () => {
  it('are what the parsed audit options stand for, the metrics\' own knobs at their defaults', () => {
    expect(metricSettings(DEFAULT_AUDIT)).toEqual(DEFAULT_AUDIT_SETTINGS);
    expect(metricSettings({ ...DEFAULT_AUDIT, steps: 15, baseline: 'road', randomMaps: 2, samples: 4, radius: 0.1 })).toMatchObject({
      steps: 15,
      deletionBaseline: 'road',
      insertionBaseline: 'road',
      randomSeeds: [1, 2],
      sensitivitySamples: 4,
      sensitivityRadius: 0.1,
      batchSize: 8,
      temporalRegion: 'box',
    });
    // samples 0 turns max-sensitivity off; its settings stay at their defaults.
    expect(metricSettings({ ...DEFAULT_AUDIT, samples: 0, radius: 0.5 })).toMatchObject({ sensitivitySamples: 8, sensitivityRadius: 0.02 });
  });
});
