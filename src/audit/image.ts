// The image under audit and its perturbation baselines (blurred copy, mean colour, black).
import sharp from 'sharp';
import type { AuditImage, MapGrid, PerturbBaseline } from './types.js';

export function checkImage(rgb: Uint8Array, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`audit: bad image size ${width}x${height}`);
  }
  if (rgb.length !== width * height * 3) {
    throw new Error(`audit: image buffer has ${rgb.length} bytes, expected ${width}x${height}x3 = ${width * height * 3}`);
  }
}

export function checkMap(map: MapGrid, what = 'map'): void {
  if (!Number.isInteger(map.width) || !Number.isInteger(map.height) || map.width <= 0 || map.height <= 0) {
    throw new Error(`audit: bad ${what} size ${map.width}x${map.height}`);
  }
  if (map.data.length !== map.width * map.height) {
    throw new Error(`audit: ${what} has ${map.data.length} values, expected ${map.width}x${map.height}`);
  }
}

/** 'auto' = 2% of the longer side: strong enough to wipe out small road users, not the scene layout. */
export function resolveBlurSigma(sigma: number | 'auto', width: number, height: number): number {
  const s = sigma === 'auto' ? Math.max(1, Math.round(0.02 * Math.max(width, height))) : sigma;
  // sharp accepts 0.3..1000.
  return Math.min(1000, Math.max(0.3, s));
}

/** Gaussian blur through sharp (libvips): fast on full HD, and done once per image. */
export async function blurRgb(rgb: Uint8Array, width: number, height: number, sigma: number): Promise<Uint8Array> {
  checkImage(rgb, width, height);
  const input = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  const { data, info } = await sharp(input, { raw: { width, height, channels: 3 } })
    .blur(sigma)
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== rgb.length) throw new Error('audit: blur changed the image layout');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Adds the blurred copy once, so every detection and map of the frame reuses it. */
export async function prepareAuditImage(
  rgb: Uint8Array,
  width: number,
  height: number,
  blurSigma: number | 'auto' = 'auto',
): Promise<AuditImage> {
  checkImage(rgb, width, height);
  const blurred = await blurRgb(rgb, width, height, resolveBlurSigma(blurSigma, width, height));
  return { rgb, width, height, blurred };
}

/** The fully perturbed image for a baseline kind (blurs now if the image has no blurred copy yet). */
export async function baselineImage(
  image: AuditImage,
  kind: PerturbBaseline,
  blurSigma: number | 'auto' = 'auto',
): Promise<Uint8Array> {
  const { rgb, width, height } = image;
  checkImage(rgb, width, height);
  if (kind === 'blur') {
    if (!image.blurred) image.blurred = await blurRgb(rgb, width, height, resolveBlurSigma(blurSigma, width, height));
    if (image.blurred.length !== rgb.length) throw new Error('audit: blurred copy has a different size');
    return image.blurred;
  }
  if (kind === 'road') throw new Error('audit: the road baseline has no fixed image (road.ts imputes each step)');
  const out = new Uint8Array(rgb.length);
  if (kind === 'black') return out;
  // Mean colour: removes the content but keeps the image's overall brightness and tint.
  const sum = [0, 0, 0];
  for (let i = 0; i < rgb.length; i += 3) {
    sum[0]! += rgb[i]!;
    sum[1]! += rgb[i + 1]!;
    sum[2]! += rgb[i + 2]!;
  }
  const n = width * height;
  const mean = sum.map((s) => Math.round(s / n));
  for (let i = 0; i < rgb.length; i += 3) {
    out[i] = mean[0]!;
    out[i + 1] = mean[1]!;
    out[i + 2] = mean[2]!;
  }
  return out;
}
