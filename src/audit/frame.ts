// The per-frame measurement of an audit: every detection's maps go through deletion/insertion and
// max-sensitivity together, so what can be shared across the frame's detections is computed once:
// - perturbed copies live in the model's input space (`auditInput`) and one forward scores every detection;
// - a class-agnostic method's map (the registry's `classAgnostic`) and the random maps are per frame, so they
//   are perturbed once for all detections;
// - each noisy copy of max-sensitivity is explained once, by every method from one forward pass, and read for
//   every detection.
import type { AuditableExplainer, CamMethodName, ExplainOptions, Frame, ScoredDetection } from '../types.js';
import { detectionResult } from './detection.js';
import { checkpoint, matchDetection } from './engine-bridge.js';
import { frameCurves, type CurveJob, type FrameCurveStats, type PerturbedRuns } from './frame-curves.js';
import { baselineImage } from './image.js';
import { mixSeed, randomMap } from './rng.js';
import { maxSensitivities } from './sensitivity.js';
import type { AuditImage, AuditSettings, DetectionAudit, MapGrid, PerturbationResult } from './types.js';

export interface FrameMeasureInput {
  engine: AuditableExplainer;
  frame: Frame;
  /** The frame with its blurred copy (prepareAuditImage). */
  image: AuditImage;
  detections: readonly ScoredDetection[];
  /** Per method (report order), the map explaining each detection (undefined: none). */
  maps: ReadonlyMap<string, readonly (MapGrid | undefined)[]>;
  /** Per method, the time each detection's map took (ms). */
  msPerMap: ReadonlyMap<string, readonly (number | undefined)[]>;
  /** Methods whose one map serves every detection of the frame (the registry's `classAgnostic`). */
  classAgnostic: (method: string) => boolean;
  /** CAM methods that get max-sensitivity. */
  sensitivity: readonly CamMethodName[];
  explain: Pick<ExplainOptions, 'minScore' | 'methodParams'>;
  /** Per-detection maps (else class maps: one per class, serving each detection of the class). */
  perDetection: boolean;
  /** Threshold of the detector runs on perturbed copies. */
  rescoreThreshold: number;
  settings: AuditSettings;
  signal?: AbortSignal;
  stats?: FrameCurveStats;
  /** Perturbed copies scored and noisy copies explained on a worker pool (else by `engine`, one at a time). */
  perturbed?: PerturbedRuns;
}

/** The frame's DetectionAudits, one per detection that has a map (in detection order). */
export async function measureFrame(input: FrameMeasureInput): Promise<DetectionAudit[]> {
  const { engine, frame, image, detections, maps, settings: s, signal } = input;
  const { width: W, height: H } = frame;
  const methods = [...maps.keys()];
  const audited = detections.flatMap((_, i) => (methods.some((m) => maps.get(m)![i]) ? [i] : []));
  if (audited.length === 0) return [];
  const firstMap = methods.map((m) => maps.get(m)!.find((x) => x)).find((x) => x)!;

  const space = engine.auditInput(frame);
  const toSpace = async (kind: AuditSettings['deletionBaseline']): Promise<Float32Array | 'road'> =>
    kind === 'road' ? 'road' : engine.auditInput({ ...frame, rgb: await baselineImage(image, kind, s.blurSigma) }).data;
  const deletionBase = await toSpace(s.deletionBaseline);
  const insertionBase = s.insertionBaseline === s.deletionBaseline ? deletionBase : await toSpace(s.insertionBaseline);

  // The jobs: per method one map per detection (or one for all), then the random maps (per frame).
  const jobs: CurveJob[] = [];
  const jobOf = new Map<string, number[]>(); // method -> job index per detection
  for (const m of methods) {
    const per = maps.get(m)!;
    const have = audited.filter((i) => per[i]);
    const index: number[] = [];
    // One job per distinct map: a class map serves every detection of its class, a class-agnostic map all.
    const jobOfMap = new Map<MapGrid, number>();
    for (const i of have) {
      const map = input.classAgnostic(m) ? per[have[0]!]! : per[i]!;
      let j = jobOfMap.get(map);
      if (j === undefined) {
        j = jobs.push({ map, targets: [] }) - 1;
        jobOfMap.set(map, j);
      }
      (jobs[j]!.targets as number[]).push(i);
      index[i] = j;
    }
    jobOf.set(m, index);
  }
  const randoms = s.randomSeeds.map((seed) => randomMap(firstMap.width, firstMap.height, mixSeed(seed, frame.index)));
  const randomJob0 = jobs.length;
  for (const map of randoms) jobs.push({ map, targets: audited });

  const detect = async (images: Float32Array[]) => {
    await checkpoint(signal);
    return (input.perturbed ?? engine).detectInputs(images, space.width, space.height, W, H, input.rescoreThreshold);
  };
  const curves = await frameCurves(
    { width: space.width, height: space.height, data: space.data, deletionBase, insertionBase },
    detections,
    jobs,
    detect,
    // detectInputs runs its images one forward each, so batches here only set how much one call carries.
    input.perturbed ? { steps: s.steps, batchSize: s.batchSize, concurrency: input.perturbed.concurrency } : { steps: s.steps, batchSize: Math.min(s.batchSize, engine.batchLimit) },
    input.stats,
  );
  const curveFor = (job: number, detection: number): PerturbationResult => curves[job]![jobs[job]!.targets.indexOf(detection)]!;

  // Max-sensitivity: each noisy copy explained once for all methods, read for every method and detection.
  const sensitivity = new Map<string, number[]>();
  const labels = [...new Set(audited.map((i) => detections[i]!.label))];
  // A detection's own map is found again under noise with a lower threshold (a slightly weaker detection keeps
  // its map); a class map is made of the class's detections above the threshold, so it keeps the threshold.
  const minScore = input.perDetection ? Math.max(0.05, 0.5 * input.explain.minScore) : input.explain.minScore;
  // All methods' maps on one list: each noisy copy is explained once for every method (one forward pass), and
  // the copies are the same as one method at a time would get (seeded by the frame), so the values are too.
  const have = input.sensitivity.flatMap((m) => {
    const per = maps.get(m);
    return per ? audited.filter((i) => per[i]).map((i) => ({ m, i, base: per[i]!.data })) : [];
  });
  if (have.length) {
    const values = await maxSensitivities(
      frame.rgb,
      W,
      H,
      async (noisy) => {
        await checkpoint(signal);
        const ex = await (input.perturbed ?? engine).explainMethods({ ...frame, rgb: noisy }, [...new Set(have.map((h) => h.m))], { perDetection: input.perDetection, classes: labels, minScore, methodParams: input.explain.methodParams });
        return have.map(({ m, i }) => {
          const j = matchDetection(ex.detections, detections[i]!);
          if (j < 0) return undefined;
          const list = ex.mapsByMethod[m] ?? [];
          return (input.perDetection ? list.find((x) => x.detectionIndex === j) : list.find((x) => x.classId === detections[i]!.classId))?.data;
        });
      },
      have.map((h) => h.base),
      { samples: s.sensitivitySamples, radius: s.sensitivityRadius, seed: mixSeed(frame.index), concurrency: input.perturbed?.concurrency ?? 1 },
    );
    have.forEach(({ m, i }, k) => {
      if (!sensitivity.has(m)) sensitivity.set(m, []);
      sensitivity.get(m)![i] = values[k]!;
    });
  }

  return audited.map((i) => {
    const d = detections[i]!;
    const detection = { label: d.label, classId: d.classId, score: Math.round(d.score * 1e4) / 1e4, box: d.box };
    const own = methods.filter((m) => maps.get(m)![i]);
    const ms = Object.fromEntries(own.flatMap((m) => (input.msPerMap.get(m)?.[i] !== undefined ? [[m, input.msPerMap.get(m)![i]!]] : [])));
    return detectionResult(
      {
        detection,
        detectionIndex: i,
        frame: frame.index,
        time: frame.time,
        maps: Object.fromEntries(own.map((m) => [m, maps.get(m)![i]!])),
        msPerMap: ms,
        width: W,
        height: H,
        curves: Object.fromEntries(own.map((m) => [m, curveFor(jobOf.get(m)![i]!, i)])),
        randoms,
        randomCurves: randoms.map((_, r) => curveFor(randomJob0 + r, i)),
        sensitivity: Object.fromEntries(own.flatMap((m) => (sensitivity.get(m)?.[i] !== undefined ? [[m, sensitivity.get(m)![i]!]] : []))),
      },
      s,
    );
  });
}
