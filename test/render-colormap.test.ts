import { describe, expect, it } from 'vitest';
import { colorAt, colorize, colormapLut } from '../src/render/colormap.js';
import { classColor } from '../src/render/class-colors.js';
import { combineMax } from '../src/render/combine.js';
import { UserError } from '../src/errors.js';
import { COLORMAPS } from '../src/settings.js';
import { cluster, subtract } from '../src/render/rects.js';
import { flatMap, gaussMap } from './render-fixtures.js';

const near = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

describe('colormaps', () => {
  it('have 256 RGB entries each', () => {
    for (const name of COLORMAPS) expect(colormapLut(name).length).toBe(768);
  });

  it('turbo runs from dark blue-purple to dark red', () => {
    const [r0, g0, b0] = colorAt('turbo', 0);
    expect(b0).toBeGreaterThan(r0);
    expect(b0).toBeGreaterThan(g0);
    expect(Math.max(r0, g0, b0)).toBeLessThan(100);
    const [r1, g1, b1] = colorAt('turbo', 1);
    expect(r1).toBeGreaterThan(100);
    expect(r1).toBeLessThan(160);
    expect(Math.max(g1, b1)).toBeLessThan(30);
    // Middle of Turbo is a bright yellow-green (published table: 164,252,60 at 0.5).
    expect(near(colorAt('turbo', 0.5), [164, 252, 60], 8)).toBe(true);
  });

  it('viridis runs from purple to yellow and matches matplotlib', () => {
    expect(near(colorAt('viridis', 0), [68, 1, 84], 5)).toBe(true);
    expect(near(colorAt('viridis', 0.5), [33, 145, 140], 5)).toBe(true);
    expect(near(colorAt('viridis', 1), [253, 231, 37], 5)).toBe(true);
  });

  it('inferno runs from black to pale yellow and matches matplotlib', () => {
    expect(near(colorAt('inferno', 0), [0, 0, 4], 5)).toBe(true);
    expect(near(colorAt('inferno', 0.5), [188, 55, 84], 5)).toBe(true);
    expect(near(colorAt('inferno', 1), [252, 255, 164], 5)).toBe(true);
  });

  it('jet runs from dark blue through green to dark red', () => {
    expect(colorAt('jet', 0)).toEqual([0, 0, 128]);
    expect(colorAt('jet', 0.5)[1]).toBe(255);
    expect(colorAt('jet', 1)).toEqual([128, 0, 0]);
  });

  it('rejects an unknown name with a UserError', () => {
    expect(() => colormapLut('rainbow' as never)).toThrow(UserError);
  });
});

describe('colorize', () => {
  it('colours by the LUT and sets alpha = value^gamma * alpha * 255', () => {
    const map = new Float32Array([0, 0.5, 1, 2, Number.NaN, -1]);
    const out = colorize(map, 6, 1, 'viridis', 0.8);
    expect(out.length).toBe(24);
    expect([...out.subarray(0, 4)]).toEqual([...colorAt('viridis', 0), 0]);
    expect([...out.subarray(4, 7)]).toEqual(colorAt('viridis', 0.5));
    expect(out[7]).toBe(Math.round((128 / 255) * 0.8 * 255));
    expect(out[11]).toBe(204);
    // Out-of-range values clamp; NaN counts as cold.
    expect([...out.subarray(12, 16)]).toEqual([...out.subarray(8, 12)]);
    expect(out[19]).toBe(0);
    expect(out[23]).toBe(0);
  });

  it('fades weak values faster with gamma > 1', () => {
    const map = new Float32Array([0.2, 1]);
    const lin = colorize(map, 2, 1, 'turbo', 1, 1);
    const g2 = colorize(map, 2, 1, 'turbo', 1, 2);
    expect(lin[3]).toBe(51);
    expect(g2[3]).toBe(10);
    expect(g2[7]).toBe(255);
  });
});

describe('classColor', () => {
  it('is stable and consistent between hex and rgb', () => {
    const a = classColor(2, 'car');
    expect(classColor(2, 'car')).toEqual(a);
    expect(a.hex).toMatch(/^#[0-9a-f]{6}$/);
    expect(parseInt(a.hex.slice(1), 16)).toBe((a.rgb[0] << 16) | (a.rgb[1] << 8) | a.rgb[2]);
  });

  it('keeps the classes a dashcam sees clearly apart', () => {
    const ids = [0, 1, 2, 3, 5, 7, 9, 11];
    for (const i of ids) {
      for (const j of ids) {
        if (i >= j) continue;
        const [a, b] = [classColor(i).rgb, classColor(j).rgb];
        const dist = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
        expect(dist, `class ${i} vs ${j}`).toBeGreaterThan(90);
      }
    }
  });

  it('gives every COCO-80 id a colour and falls back to the label when there is no id', () => {
    const all = new Set(Array.from({ length: 80 }, (_, i) => classColor(i).hex));
    expect(all.size).toBeGreaterThan(60);
    expect(classColor(-1, 'forklift')).toEqual(classColor(-1, 'forklift'));
    expect(classColor(-1, 'forklift').hex).not.toBe(classColor(-1, 'tram').hex);
  });
});

describe('combineMax', () => {
  it('takes the per-pixel maximum', () => {
    const a = gaussMap('car', 2, 0.25, 0.5, 0.05, 64, 32);
    const b = gaussMap('person', 0, 0.75, 0.5, 0.05, 64, 32);
    const c = combineMax([a, b])!;
    expect(c.width).toBe(64);
    for (let i = 0; i < c.data.length; i++) expect(c.data[i]).toBe(Math.max(a.data[i]!, b.data[i]!));
  });

  it('resamples maps of other sizes onto the largest grid', () => {
    const small = flatMap('car', 2, 0.3, 16, 9);
    const big = gaussMap('person', 0, 0.5, 0.5, 0.05, 64, 64);
    const c = combineMax([small, big])!;
    expect([c.width, c.height]).toEqual([64, 64]);
    expect(c.data[0]).toBeCloseTo(0.3, 5);
    expect(c.data[32 * 64 + 32]).toBeGreaterThan(0.9);
  });

  it('returns null for no maps and throws on a map whose buffer does not match its size', () => {
    expect(combineMax([])).toBeNull();
    expect(() => combineMax([{ ...flatMap('car', 2, 1, 4, 4), width: 5 }])).toThrow(/expected 5x4/);
  });
});

describe('rectangle planning', () => {
  it('cluster joins overlapping or cheap-to-join rectangles and keeps item order', () => {
    const r = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });
    const items = [r(0, 0, 10, 10), r(1000, 0, 1010, 10), r(5, 5, 20, 20), r(0, 600, 1000, 700)];
    const groups = cluster(items, (x) => x, 1000);
    // 0 and 2 overlap; 1 is far from both; 3 is big and far.
    expect(groups.map((g) => g.items.map((i) => items.indexOf(i)))).toEqual([[0, 2], [1], [3]]);
    expect(groups[0]!.rect).toEqual(r(0, 0, 20, 20));
    // With a generous budget, the two small far-apart ones are joined too.
    expect(cluster(items.slice(0, 3), (x) => x, 1e6).length).toBe(1);
  });

  it('subtract leaves disjoint pieces covering exactly the difference', () => {
    const pieces = subtract({ x0: 0, y0: 0, x1: 10, y1: 10 }, [{ x0: 3, y0: 3, x1: 6, y1: 20 }]);
    const covered = new Set<string>();
    for (const p of pieces) {
      for (let y = p.y0; y < p.y1; y++) {
        for (let x = p.x0; x < p.x1; x++) {
          expect(covered.has(`${x},${y}`)).toBe(false);
          covered.add(`${x},${y}`);
        }
      }
    }
    expect(covered.size).toBe(100 - 3 * 7);
    expect(covered.has('4,5')).toBe(false);
    expect(covered.has('2,5')).toBe(true);
  });
});
