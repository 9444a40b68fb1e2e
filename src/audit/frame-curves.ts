// Deletion and insertion curves for a whole frame at once (the audit's cost centre). Two things make it cheap:
// - Perturbed copies are made in the model's input space (512² floats for CenterNet, `auditInput`), not as
//   720p frames that the detector then resizes: compositing, copying and resizing were most of a run's time.
// - One perturbed forward scores every detection of the frame: a map shared by several detections (a
//   class-agnostic method's, the per-frame random maps) is perturbed once and read for each of them.
import { matchedScore } from './box.js';
import { checkMap } from './image.js';
import { saliencyPixelOrder } from './order.js';
import { trapezoidAuc } from './perturbation.js';
import { roadImpute } from './road.js';
import { mixSeed } from './rng.js';
import type { AuditableExplainer, Detection } from '../types.js';
import type { Curve, MapGrid, PerturbationResult } from './types.js';

/** An image in the audit's perturbation space: RGB 0-255 floats, row-major, 3 values a pixel. */
export interface InputImage {
  width: number;
  height: number;
  /** Unperturbed; what deletion removes / insertion reveals. */
  data: Float32Array;
  /** What deleted pixels become (fully perturbed image), or 'road': imputed from the pixels kept (road.ts). */
  deletionBase: Float32Array | 'road';
  /** What insertion starts from, or 'road'. */
  insertionBase: Float32Array | 'road';
}

/** Detector on perturbation-space images: the detections of each (boxes in the frame's pixels). */
export type DetectInputs = (images: Float32Array[]) => Promise<Detection[][]>;

/**
 * Where perturbed and noisy copies go when not to the audited engine itself: a worker pool with the same model
 * and options (WorkerPoolExplainer), `concurrency` calls at once.
 */
export type PerturbedRuns = Pick<AuditableExplainer, 'detectInputs' | 'explain' | 'explainMethods'> & { readonly concurrency: number };

/** One map to perturb and the detections (indices into the frame's list) its curves are read for. */
export interface CurveJob {
  map: MapGrid;
  targets: readonly number[];
}

export interface FrameCurveStats {
  /** Detector runs made (perturbed images scored). */
  runs: number;
  /** Time spent inside those detector runs (ms). */
  detectMs: number;
}

/**
 * For every job, one PerturbationResult per target (same order). Scores are divided by each detection's score
 * on the unperturbed input; 2 + (1 if the baselines differ) + 2·(steps − 1)·jobs detector runs in all.
 */
export async function frameCurves(
  image: InputImage,
  detections: readonly Detection[],
  jobs: readonly CurveJob[],
  detect: DetectInputs,
  options: { steps: number; batchSize: number; /** Batches scored at once (a worker pool's size); 1 by default. */ concurrency?: number },
  stats?: FrameCurveStats,
): Promise<PerturbationResult[][]> {
  const { width, height, data, deletionBase, insertionBase } = image;
  const { steps } = options;
  const nPix = width * height;
  const sizeOk = (b: Float32Array | 'road'): boolean => b === 'road' || b.length === data.length;
  if (data.length !== nPix * 3 || !sizeOk(deletionBase) || !sizeOk(insertionBase)) throw new Error('audit: input images differ in size');
  jobs.forEach((j, i) => checkMap(j.map, `map ${i}`));
  // ROAD imputes from the pixels kept, so each step's image is solved for its own mask.
  const nothingKept = new Uint8Array(nPix);
  const full = (b: Float32Array | 'road', seed: number): Float32Array => (b === 'road' ? roadImpute(data, nothingKept, width, height, { seed }) : b);
  const sameBase = deletionBase === insertionBase;
  const shared = sameBase ? [data, full(deletionBase, 1)] : [data, full(deletionBase, 1), full(insertionBase, 2)];
  const insStart = sameBase ? 1 : 2;
  const perMap = 2 * (steps - 1);
  const pixelsAt = (k: number): number => Math.round((k / steps) * nPix);

  function* images(): Generator<Float32Array> {
    yield* shared;
    for (const [j, job] of jobs.entries()) {
      const order = saliencyPixelOrder(job.map, width, height);
      for (const [curve, from, onto] of [
        [0, deletionBase, data],
        [1, data, insertionBase],
      ] as const) {
        if (from === 'road' || onto === 'road') {
          // Kept: deletion keeps all but the first pixels of the order; insertion keeps the first ones.
          const known = new Uint8Array(nPix).fill(curve === 0 ? 1 : 0);
          let done = 0;
          for (let k = 1; k < steps; k++) {
            for (const upTo = pixelsAt(k); done < upTo; done++) known[order[done]!] = curve === 0 ? 0 : 1;
            yield roadImpute(data, known, width, height, { seed: mixSeed(j, curve, k) });
          }
          continue;
        }
        const work = new Float32Array(onto);
        let done = 0;
        for (let k = 1; k < steps; k++) {
          for (const upTo = pixelsAt(k); done < upTo; done++) {
            const p = order[done]! * 3;
            work[p] = from[p]!;
            work[p + 1] = from[p + 1]!;
            work[p + 2] = from[p + 2]!;
          }
          yield new Float32Array(work);
        }
      }
    }
  }

  // scores[image][detection]: each forward is read for every detection of the frame. Up to `concurrency`
  // batches are in flight (one per pool worker) while the next ones are made; results land by batch index.
  const byBatch: Float64Array[][] = [];
  const inFlight = new Set<Promise<void>>();
  const concurrency = Math.max(1, options.concurrency ?? 1);
  let batch: Float32Array[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const images = batch;
    const at = byBatch.push([]) - 1;
    batch = [];
    const t0 = performance.now();
    const run = detect(images).then((lists) => {
      if (stats) stats.detectMs += performance.now() - t0;
      if (lists.length !== images.length) throw new Error(`audit: detector returned ${lists.length} results for ${images.length} images`);
      if (stats) stats.runs += images.length;
      byBatch[at] = lists.map((found) => Float64Array.from(detections, (d) => matchedScore(found, d)));
    });
    const tracked = run.finally(() => inFlight.delete(tracked));
    tracked.catch(() => undefined); // awaited below; a failure while another batch is awaited is not unhandled
    inFlight.add(tracked);
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
  };
  for (const img of images()) {
    batch.push(img);
    if (batch.length >= options.batchSize) await flush();
  }
  await flush();
  await Promise.all(inFlight);
  const scores = byBatch.flat();

  const x = Array.from({ length: steps + 1 }, (_, k) => k / steps);
  const at = (img: number, d: number): number => scores[img]![d]!;
  return jobs.map((job, j) => {
    const first = shared.length + j * perMap;
    return job.targets.map((d) => {
      const reference = at(0, d);
      const del = [0, ...Array.from({ length: steps - 1 }, (_, i) => first + i), 1].map((img) => at(img, d));
      const ins = [insStart, ...Array.from({ length: steps - 1 }, (_, i) => first + steps - 1 + i), 0].map((img) => at(img, d));
      return { reference, deletion: curve(x, del, reference), insertion: curve(x, ins, reference) };
    });
  });
}

function curve(x: number[], raw: number[], reference: number): Curve {
  // A detection the detector no longer finds on the unperturbed input has nothing to normalise by.
  const ok = Number.isFinite(reference) && reference > 0;
  const y = raw.map((s) => (ok ? s / reference : NaN));
  return { x, y, raw, auc: ok ? trapezoidAuc(y) : NaN };
}
