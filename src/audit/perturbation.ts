// Deletion and insertion curves (RISE, Petsiuk et al. 2018).
// Deletion: replace the most salient pixels first with a baseline; a faithful map makes the score fall fast
// (low AUC). Insertion: start from the blurred image and reveal the most salient pixels first; a faithful
// map makes the score rise fast (high AUC). Scores are divided by the unperturbed image's score, so the
// curves start (deletion) / end (insertion) at 1 and AUCs compare across detections of different confidence.
import { UserError } from '../errors.js';
import { baselineImage, checkImage, checkMap } from './image.js';
import { saliencyPixelOrder } from './order.js';
import type { AuditImage, Curve, MapGrid, PerturbBaseline, PerturbationResult, ScoreBatch } from './types.js';

export interface PerturbationOptions {
  steps: number;
  deletionBaseline: PerturbBaseline;
  insertionBaseline: PerturbBaseline;
  blurSigma: number | 'auto';
  batchSize: number;
}

const DEFAULTS: PerturbationOptions = {
  steps: 20,
  deletionBaseline: 'blur',
  insertionBaseline: 'blur',
  blurSigma: 'auto',
  batchSize: 8,
};

/** Area under y over evenly spaced x in [0, 1] (trapezoid rule). */
export function trapezoidAuc(y: readonly number[]): number {
  if (y.length < 2) return NaN;
  const dx = 1 / (y.length - 1);
  let area = 0;
  for (let i = 1; i < y.length; i++) area += ((y[i - 1]! + y[i]!) / 2) * dx;
  return area;
}

/** Deletion and insertion for one map. See `perturbationCurves`. */
export async function deletionInsertion(
  image: AuditImage,
  map: MapGrid,
  scoreBatch: ScoreBatch,
  options: Partial<PerturbationOptions> = {},
): Promise<PerturbationResult> {
  const [r] = await perturbationCurves(image, [map], scoreBatch, options);
  return r!;
}

/**
 * Deletion and insertion curves for several maps of the same detection at once (methods + random seeds), so
 * the images they share (unperturbed, fully perturbed) are scored once and batches stay full.
 * Costs 2 * (steps - 1) scored images per map plus 2 or 3 shared ones.
 */
export async function perturbationCurves(
  image: AuditImage,
  maps: readonly MapGrid[],
  scoreBatch: ScoreBatch,
  options: Partial<PerturbationOptions> = {},
): Promise<PerturbationResult[]> {
  const o = { ...DEFAULTS, ...options };
  checkPerturbationOptions(o);
  const { rgb, width, height } = image;
  checkImage(rgb, width, height);
  maps.forEach((m, i) => checkMap(m, `map ${i}`));

  // ROAD's images depend on each step's mask: the audit measures it per frame (frame-curves.ts).
  if (o.deletionBaseline === 'road' || o.insertionBaseline === 'road') throw new Error('audit: the road baseline is measured with frameCurves');
  const delBase = await baselineImage(image, o.deletionBaseline, o.blurSigma);
  const insBase = await baselineImage(image, o.insertionBaseline, o.blurSigma);
  const sameBase = o.deletionBaseline === o.insertionBaseline;
  const steps = o.steps;
  const nPix = width * height;
  const pixelsAt = (k: number): number => Math.round((k / steps) * nPix);

  // Job 0: unperturbed; 1: deletion end; 2: insertion start (same image as 1 when the baselines match).
  const shared = sameBase ? [rgb, delBase] : [rgb, delBase, insBase];
  const insStartJob = sameBase ? 1 : 2;
  const perMap = 2 * (steps - 1);
  const total = shared.length + maps.length * perMap;
  const jobOf = (m: number, curve: 0 | 1, k: number): number => shared.length + m * perMap + curve * (steps - 1) + (k - 1);

  // Images are built lazily in job order, so at most one batch of copies is alive at a time.
  function* images(): Generator<Uint8Array> {
    yield* shared;
    for (const map of maps) {
      const order = saliencyPixelOrder(map, width, height);
      // Deletion: copy baseline pixels onto the image, most salient first; insertion: the reverse.
      for (const [from, onto] of [
        [delBase, rgb],
        [rgb, insBase],
      ] as const) {
        const work = new Uint8Array(onto); // a copy even when `onto` is a Buffer (whose slice() is a view)
        let done = 0;
        for (let k = 1; k < steps; k++) {
          const upTo = pixelsAt(k);
          for (; done < upTo; done++) {
            const p = order[done]! * 3;
            work[p] = from[p]!;
            work[p + 1] = from[p + 1]!;
            work[p + 2] = from[p + 2]!;
          }
          yield new Uint8Array(work);
        }
      }
    }
  }

  const scores = new Float64Array(total);
  let filled = 0;
  let batch: Uint8Array[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const got = await scoreBatch(batch, width, height);
    if (!Array.isArray(got) || got.length !== batch.length || got.some((s) => typeof s !== 'number' || Number.isNaN(s))) {
      throw new Error(`audit: scoreBatch returned ${Array.isArray(got) ? got.length : typeof got} scores for ${batch.length} images (numbers required)`);
    }
    for (const s of got) scores[filled++] = s;
    batch = [];
  };
  for (const img of images()) {
    batch.push(img);
    if (batch.length >= o.batchSize) await flush();
  }
  await flush();

  const reference = scores[0]!;
  const x = Array.from({ length: steps + 1 }, (_, k) => k / steps);
  return maps.map((_, m) => {
    const del = [0, ...Array.from({ length: steps - 1 }, (_, i) => jobOf(m, 0, i + 1)), 1].map((j) => scores[j]!);
    const ins = [insStartJob, ...Array.from({ length: steps - 1 }, (_, i) => jobOf(m, 1, i + 1)), 0].map((j) => scores[j]!);
    return { reference, deletion: curve(x, del, reference), insertion: curve(x, ins, reference) };
  });
}

function curve(x: number[], raw: number[], reference: number): Curve {
  // A detection the detector no longer finds on the unperturbed image has nothing to normalise by.
  const ok = Number.isFinite(reference) && reference > 0;
  const y = raw.map((s) => (ok ? s / reference : NaN));
  return { x, y, raw, auc: ok ? trapezoidAuc(y) : NaN };
}

export function checkPerturbationOptions(o: PerturbationOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 2 || o.steps > 1000) {
    throw new UserError(`audit steps must be an integer from 2 to 1000, got ${o.steps}`);
  }
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new UserError(`audit batch size must be a positive integer, got ${o.batchSize}`);
  }
  for (const b of [o.deletionBaseline, o.insertionBaseline]) {
    if (b !== 'blur' && b !== 'mean' && b !== 'black' && b !== 'road') throw new UserError(`unknown audit baseline '${b}' (blur, mean, black or road)`);
  }
  if (o.blurSigma !== 'auto' && !(typeof o.blurSigma === 'number' && o.blurSigma > 0 && Number.isFinite(o.blurSigma))) {
    throw new UserError(`audit blur sigma must be 'auto' or a positive number, got ${o.blurSigma}`);
  }
}
