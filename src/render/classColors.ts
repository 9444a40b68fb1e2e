// Stable, distinct colours per class: the same class gets the same colour in every frame and every run,
// so a viewer can follow "the green boxes" through a clip.

export interface ClassColor {
  /** `#rrggbb` */
  hex: string;
  rgb: [number, number, number];
}

// Golden-ratio hue steps keep consecutive ids (person, bicycle, car, … in COCO) far apart on the hue circle;
// cycling saturation/value separates ids whose hues land close after wrapping around.
const GOLDEN = 0.6180339887498949;
const SV: ReadonlyArray<[number, number]> = [
  [0.85, 1.0],
  [0.6, 1.0],
  [1.0, 0.85],
];

const cache = new Map<number, ClassColor>();

/**
 * Colour of a class. `classId` is the 0-based COCO-80 (or custom model) index; when it is not a
 * non-negative integer the colour is derived from `label` instead, still stably.
 */
export function classColor(classId: number, label = ''): ClassColor {
  const key = Number.isInteger(classId) && classId >= 0 ? classId : 1000 + (hashString(label) % 1_000_000);
  let c = cache.get(key);
  if (!c) {
    c = colorForIndex(key);
    cache.set(key, c);
  }
  return c;
}

function colorForIndex(i: number): ClassColor {
  const hue = (i * GOLDEN) % 1;
  const [s, v] = SV[i % SV.length]!;
  const rgb = hsvToRgb(hue, s, v);
  const hex = '#' + rgb.map((x) => x.toString(16).padStart(2, '0')).join('');
  return { hex, rgb };
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return Math.round((v - v * s * Math.max(0, Math.min(k, 4 - k, 1))) * 255);
  };
  return [f(5), f(3), f(1)];
}

// FNV-1a: tiny and stable across runs and platforms (unlike anything seeded).
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
