// Audits one detection: every method's map plus the random baseline, on every per-detection metric.
import type { Detection } from '../types.js';
import { meanCurve } from './aggregate.js';
import { checkImage, checkMap } from './image.js';
import { perturbationCurves } from './perturbation.js';
import { pointingMetrics } from './pointing.js';
import { mixSeed, randomMap } from './rng.js';
import { maxSensitivity, randomExplainSensitivity } from './sensitivity.js';
import {
  DEFAULT_AUDIT_SETTINGS,
  RANDOM,
  type AuditImage,
  type AuditSettings,
  type DetectionAudit,
  type Explain,
  type MapGrid,
  type MetricValues,
  type PerturbationResult,
  type ScoreBatch,
} from './types.js';

export interface AuditDetectionInput {
  /** The frame; use `prepareAuditImage` once per frame so all its detections share the blurred copy. */
  image: AuditImage;
  detection: Detection;
  /** Index of the detection in its frame (identifies it in the results; also seeds the random maps). */
  detectionIndex: number;
  frame: number;
  time: number;
  trackId?: number;
  /** The map explaining this detection, per method (a SaliencyMap fits). Method names are free but not 'random'. */
  maps: Record<string, MapGrid>;
  /** Scores perturbed copies of the image for this detection (e.g. from `detectionScorer`). */
  scoreBatch: ScoreBatch;
  /** Per method, recomputes its map for this detection on a noisy image; max-sensitivity only runs for these. */
  explainers?: Record<string, Explain>;
  /** Per method, the time it took to make the map (goes to the table's "ms per map"). */
  msPerMap?: Record<string, number>;
}

/**
 * Deletion/insertion AUC, energy in box, pointing hit, and (where an explainer is given) max-sensitivity for
 * each method's map, and the same for random maps of the first map's size averaged over `randomSeeds`.
 * All maps' perturbed images go through `scoreBatch` in shared batches. `keepCurves` (default true) keeps
 * the normalised curves in the result for the report's mean-curve charts (steps + 1 numbers each).
 */
export async function auditDetection(
  input: AuditDetectionInput,
  settings: Partial<AuditSettings> = {},
  options: { keepCurves?: boolean } = {},
): Promise<DetectionAudit> {
  const s = { ...DEFAULT_AUDIT_SETTINGS, ...settings };
  const keepCurves = options.keepCurves ?? true;
  const { image, detection, maps } = input;
  checkImage(image.rgb, image.width, image.height);
  const methods = Object.keys(maps);
  if (methods.length === 0) throw new Error('audit: no maps to audit');
  if (methods.includes(RANDOM)) throw new Error(`audit: '${RANDOM}' is reserved for the baseline`);
  methods.forEach((m) => checkMap(maps[m]!, `${m} map`));
  if (s.randomSeeds.length === 0) throw new Error('audit: the random baseline needs at least one seed');

  const first = maps[methods[0]!]!;
  const randoms = s.randomSeeds.map((seed) =>
    randomMap(first.width, first.height, mixSeed(seed, input.frame, input.detectionIndex)),
  );
  const all = [...methods.map((m) => maps[m]!), ...randoms];
  const curves = await perturbationCurves(image, all, input.scoreBatch, {
    steps: s.steps,
    deletionBaseline: s.deletionBaseline,
    insertionBaseline: s.insertionBaseline,
    blurSigma: s.blurSigma,
    batchSize: s.batchSize,
  });
  const sensitivity: Record<string, number> = {};
  for (const m of methods) {
    const explain = input.explainers?.[m];
    if (explain) {
      sensitivity[m] = await maxSensitivity(image.rgb, image.width, image.height, explain, {
        samples: s.sensitivitySamples,
        radius: s.sensitivityRadius,
        seed: mixSeed(input.frame, input.detectionIndex),
      });
    }
  }
  return detectionResult(
    { ...input, width: image.width, height: image.height, curves: Object.fromEntries(methods.map((m, i) => [m, curves[i]!])), randoms, randomCurves: curves.slice(methods.length), sensitivity },
    s,
    keepCurves,
  );
}

/** What `detectionResult` needs: the detection, its maps and what was measured on them (curves, sensitivity). */
export interface MeasuredDetection extends Pick<AuditDetectionInput, 'detection' | 'detectionIndex' | 'frame' | 'time' | 'trackId' | 'maps' | 'msPerMap'> {
  width: number;
  height: number;
  /** Per method in `maps`. */
  curves: Record<string, PerturbationResult>;
  /** The random baseline's maps and their curves for this detection (same order). */
  randoms: readonly MapGrid[];
  randomCurves: readonly PerturbationResult[];
  /** Per method whose max-sensitivity was computed. */
  sensitivity: Record<string, number>;
}

/** One detection's metrics from its measured curves: every method's row plus the random baseline (seed mean). */
export function detectionResult(input: MeasuredDetection, s: AuditSettings, keepCurves = true): DetectionAudit {
  const { detection, maps } = input;
  const methods = Object.keys(maps);
  const point = (m: MapGrid) => pointingMetrics(m, detection.box, input.width, input.height, detection.label, detection.classId);
  const result: Record<string, MetricValues> = {};
  for (const m of methods) {
    const c = input.curves[m]!;
    const values: MetricValues = { deletionAuc: c.deletion.auc, insertionAuc: c.insertion.auc, ...point(maps[m]!) };
    if (keepCurves) {
      values.deletionCurve = c.deletion.y;
      values.insertionCurve = c.insertion.y;
    }
    const sens = input.sensitivity[m];
    if (sens !== undefined) values.maxSensitivity = sens;
    const ms = input.msPerMap?.[m];
    if (ms !== undefined) values.msPerMap = ms;
    result[m] = values;
  }

  const randomCurves = input.randomCurves;
  const randomPoints = input.randoms.map(point);
  const random: MetricValues = {
    deletionAuc: mean(randomCurves.map((c) => c.deletion.auc)),
    insertionAuc: mean(randomCurves.map((c) => c.insertion.auc)),
    energyInBoxes: mean(randomPoints.map((p) => p.energyInBoxes)),
    areaInBoxes: mean(randomPoints.map((p) => p.areaInBoxes)),
    pointingHit: mean(randomPoints.map((p) => p.pointingHit)),
  };
  if (keepCurves) {
    const dc = meanCurve(randomCurves.map((c) => c.deletion.y));
    const ic = meanCurve(randomCurves.map((c) => c.insertion.y));
    if (dc) random.deletionCurve = dc;
    if (ic) random.insertionCurve = ic;
  }
  if (Object.keys(input.sensitivity).length > 0) {
    const first = maps[methods[0]!]!;
    random.maxSensitivity = mean(
      s.randomSeeds.map((seed) =>
        randomExplainSensitivity(first.width, first.height, s.sensitivitySamples, mixSeed(seed, input.frame, input.detectionIndex)),
      ),
    );
  }

  const out: DetectionAudit = {
    frame: input.frame,
    time: input.time,
    detectionIndex: input.detectionIndex,
    label: detection.label,
    classId: detection.classId,
    score: detection.score,
    box: detection.box,
    methods: result,
    random,
  };
  if (input.trackId !== undefined) out.trackId = input.trackId;
  return out;
}

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}
