// A saliency map as an 8-bit grayscale PNG at the frame's size (0 = none, 255 = the map's maximum of 1):
// what FiftyOne's fo.Heatmap and a Foxglove image panel both show.
import sharp from 'sharp';
import type { SaliencyMap } from '../types.js';

export async function mapToPng(map: SaliencyMap, width: number, height: number): Promise<Buffer> {
  const gray = Buffer.allocUnsafe(map.width * map.height);
  for (let i = 0; i < gray.length; i++) gray[i] = Math.round(Math.min(1, Math.max(0, map.data[i]!)) * 255);
  return sharp(gray, { raw: { width: map.width, height: map.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .toColourspace('b-w')
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/** A file- and topic-safe name for a map: its label, plus the detection index in per-detection mode. */
export function mapName(map: Pick<SaliencyMap, 'label' | 'detectionIndex' | 'region' | 'versus'>): string {
  const safe = (s: string) => s.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'class';
  // Region maps by their box ("why_car_55_440_150_492"), contrastive ones by both classes ("truck_2_vs_car").
  if (map.region) return `why_${safe(map.label)}_${map.region.map((v) => Math.round(v)).join('_')}`;
  const base = map.detectionIndex !== undefined ? `${safe(map.label)}_${map.detectionIndex}` : safe(map.label);
  return map.versus ? `${base}_vs_${safe(map.versus)}` : base;
}
