// Stable, distinct colours per class: the same class gets the same colour in every frame and every run,
// so a viewer can follow "the green boxes" through a clip.

export interface ClassColor {
  /** `#rrggbb` */
  hex: string;
  rgb: [number, number, number];
}

// Hand-picked for the first 20 COCO ids, which hold every class a dashcam sees (person, bicycle, car,
// motorcycle, bus, truck, traffic light, stop sign, …): they must differ at a glance and stay bright on
// dark plates and footage. person red, car cyan, truck blue and bus green never get confused.
const COCO_FIRST20 = [
  '#ff3b30', // 0 person
  '#ffd60a', // 1 bicycle
  '#00e5ff', // 2 car
  '#ff2d92', // 3 motorcycle
  '#bf5af2', // 4 airplane
  '#30d158', // 5 bus
  '#ff9500', // 6 train
  '#4d7cff', // 7 truck
  '#c49a6c', // 8 boat
  '#00ff9c', // 9 traffic light
  '#ff7a6b', // 10 fire hydrant
  '#f0f0f0', // 11 stop sign
  '#00b8a9', // 12 parking meter
  '#b39dff', // 13 bench
  '#ffc48a', // 14 bird
  '#8ad8ff', // 15 cat
  '#ff9ecb', // 16 dog
  '#a8e6a1', // 17 horse
  '#d4c400', // 18 sheep
  '#e08a3c', // 19 cow
];

// Beyond the table: golden-ratio hue steps keep consecutive ids far apart on the hue circle, and
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
  const fixed = COCO_FIRST20[i];
  if (fixed) {
    const n = parseInt(fixed.slice(1), 16);
    return { hex: fixed, rgb: [(n >> 16) & 255, (n >> 8) & 255, n & 255] };
  }
  const [s, v] = SV[i % SV.length]!;
  const rgb = hsvToRgb((i * GOLDEN) % 1, s, v);
  return { hex: '#' + rgb.map((x) => x.toString(16).padStart(2, '0')).join(''), rgb };
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
