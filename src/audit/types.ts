// Types of the faithfulness audit: what the metrics take (small function types, so any engine plugs in)
// and what they produce (per-detection results, the aggregated table, the report's data).
import { DEFAULT_AUDIT } from '../settings.js';
import type { Box } from '../types.js';
import type { SanityMethodResult } from './sanity.js';
import type { LabelsReport } from './labels-types.js';

/**
 * Scores a batch of perturbed copies of one image for ONE tracked detection. The caller runs the detector,
 * matches the detection (same class, IoU > 0.5; see `detectionScorer`) and returns its score, or 0 when it
 * is gone. Every image is packed RGB24 of the same width x height; the result has one number per image.
 */
export type ScoreBatch = (images: Uint8Array[], width: number, height: number) => Promise<number[]>;

/**
 * Recomputes the map being audited on a (noisy) copy of the image: same class / detection, same method.
 * Returns map.width * map.height values, the same size on every call.
 */
export type Explain = (rgb: Uint8Array, width: number, height: number) => Promise<Float32Array>;

/** The minimal map shape the metrics need (a SaliencyMap satisfies it). Values in [0, 1], row-major. */
export interface MapGrid {
  width: number;
  height: number;
  data: Float32Array;
}

/** One image under audit. `blurred` (same size) is computed once per image by `prepareAuditImage`. */
export interface AuditImage {
  rgb: Uint8Array;
  width: number;
  height: number;
  blurred?: Uint8Array;
}

/** What removed pixels are replaced with (deletion) or what insertion starts from. */
/** 'road': removed pixels imputed from their neighbours with noise (ROAD, Rong et al. 2022; road.ts). */
export type PerturbBaseline = 'blur' | 'mean' | 'black' | 'road';

export type TemporalMeasure = 'l1' | 'corr';
export type TemporalRegion = 'frame' | 'box';

/** Every audit knob. Each one is shown in the report's settings section. */
export interface AuditSettings {
  /** Deletion/insertion steps (the curves have steps + 1 points). */
  steps: number;
  deletionBaseline: PerturbBaseline;
  insertionBaseline: PerturbBaseline;
  /** Gaussian sigma in pixels for the 'blur' baseline; 'auto' = max(1, 2% of the longer image side). */
  blurSigma: number | 'auto';
  /** Perturbed images per `scoreBatch` call. */
  batchSize: number;
  /** Seeds of the random-map baseline; its metrics are averaged over them. */
  randomSeeds: number[];
  /** Max-sensitivity: noisy samples per map. */
  sensitivitySamples: number;
  /** Max-sensitivity: noise radius as a fraction of the 0-255 range (uniform in ±radius * 255). */
  sensitivityRadius: number;
  temporalMeasure: TemporalMeasure;
  temporalRegion: TemporalRegion;
  /** IoU that links a detection to the same object on the next sampled frame. */
  trackIou: number;
  /** Anything else the caller wants on record (model, --every, IG steps, ...). */
  extra?: Record<string, string | number | boolean>;
}

// The knobs the audit's flags set take the settings schema's defaults (auditSchema); the others are the metrics' own.
export const DEFAULT_AUDIT_SETTINGS: Readonly<AuditSettings> = Object.freeze({
  steps: DEFAULT_AUDIT.steps,
  deletionBaseline: DEFAULT_AUDIT.baseline,
  insertionBaseline: DEFAULT_AUDIT.baseline,
  blurSigma: 'auto',
  batchSize: 8,
  randomSeeds: Array.from({ length: DEFAULT_AUDIT.randomMaps }, (_, i) => i + 1),
  sensitivitySamples: DEFAULT_AUDIT.samples,
  sensitivityRadius: DEFAULT_AUDIT.radius,
  temporalMeasure: 'l1',
  temporalRegion: 'box',
  trackIou: 0.5,
});

/** Name of the random-map baseline wherever a method name goes; no method may use it. */
export const RANDOM = 'random';

/** A deletion or insertion curve: x = share of pixels changed, y = score / unperturbed score. */
export interface Curve {
  x: number[];
  y: number[];
  /** Raw scores from `scoreBatch`, before normalisation. */
  raw: number[];
  /** Trapezoid area under y over x in [0, 1]; NaN when the unperturbed score is 0 (nothing to normalise by). */
  auc: number;
}

export interface PerturbationResult {
  /** Score of the unperturbed image: the normaliser. */
  reference: number;
  deletion: Curve;
  insertion: Curve;
}

/**
 * The metrics of one map (or the random baseline) on one detection. Absent = not computed.
 * For the random baseline each value is the mean over the seeds (so `pointingHit` becomes a share).
 */
export interface MetricValues {
  deletionAuc?: number;
  insertionAuc?: number;
  energyInBoxes?: number;
  areaInBoxes?: number;
  /** 1 when the map's peak is in the box, else 0 (a share of seeds for the random baseline). */
  pointingHit?: number;
  maxSensitivity?: number;
  /** Time the method took to make the map (caller-measured). */
  msPerMap?: number;
  /** Normalised deletion / insertion curves (steps + 1 points over x = 0..1), for the report's mean curves. */
  deletionCurve?: number[];
  insertionCurve?: number[];
}

/** The MetricValues fields that are single numbers (what the table aggregates). */
export type ScalarMetric = Exclude<keyof MetricValues, 'deletionCurve' | 'insertionCurve'>;

/** Everything measured on one detection of one frame: one entry per method plus the random baseline. */
export interface DetectionAudit {
  frame: number;
  time: number;
  detectionIndex: number;
  label: string;
  classId: number;
  score: number;
  box: Box;
  trackId?: number;
  methods: Record<string, MetricValues>;
  random: MetricValues;
}

/** Temporal stability of one method's maps along one tracked object (method = RANDOM for the baseline). */
export interface TemporalResult {
  method: string;
  trackId: number;
  label: string;
  classId: number;
  /** Frame-to-frame comparisons made (points on the track - 1). */
  transitions: number;
  /** Mean change per transition: 0 = identical maps. */
  meanChange: number;
}

/** mean and sample standard deviation (0 when n = 1) of the finite values; mean NaN (null in JSON) when n = 0. */
export interface Spread {
  mean: number;
  std: number;
  n: number;
  /** 95 % cluster-bootstrap interval of the mean (detections resampled by frame; temporal: by track). */
  ci95?: [number, number];
}

/** A paired difference a − b of one metric over the detections both have (b may be RANDOM). */
export interface Comparison {
  metric: ScalarMetric | 'temporalChange';
  a: string;
  b: string;
  /** Per class comparisons carry their class. */
  label?: string;
  mean: number;
  ci95: [number, number];
  n: number;
  /** Frames the detections came from (the bootstrap's clusters). */
  frames: number;
  /** The interval excludes 0 (and comes from 2 frames or more). */
  significant: boolean;
  /** Significant and in the metric's good direction for a. */
  aBetter: boolean;
}

/** One row of the summary table. */
export interface SummaryRow {
  method: string;
  /** Set on per-class rows. */
  label?: string;
  detections: number;
  deletionAuc: Spread;
  insertionAuc: Spread;
  energyInBoxes: Spread;
  areaInBoxes: Spread;
  pointingHitRate: Spread;
  maxSensitivity: Spread;
  /** Mean frame-to-frame change over tracks, weighted by their transitions. */
  temporalChange: Spread;
  msPerMap: Spread;
}

export interface AuditSummary {
  /** One row per method, then the RANDOM row. */
  overall: SummaryRow[];
  /** Per class (sorted by label): one row per method, then RANDOM. */
  perClass: SummaryRow[];
  /** Overall: each method against random, then each pair of methods, per metric. */
  comparisons: Comparison[];
}

/** A metric's entry in the JSON summary. */
export interface IntervalJson {
  mean: number;
  ci95: [number, number];
  n: number;
}

/** The JSON summary: `overall.<method>.<metric>` and `perClass.<label>.<method>.<metric>`, plus the comparisons. */
export interface AuditSummaryJson {
  overall: Record<string, Record<string, IntervalJson>>;
  perClass: Record<string, Record<string, Record<string, IntervalJson>>>;
  comparisons: Comparison[];
}

/** A worst-frame thumbnail: the caller renders the overlay and encodes it as JPEG. */
export interface GalleryItem {
  frame: number;
  time: number;
  method: string;
  label: string;
  detectionIndex?: number;
  energyInBoxes: number;
  /** JPEG bytes of the overlaid frame (kept small: a thumbnail). */
  jpeg: Uint8Array;
  caption?: string;
}

export type GalleryItemJson = Omit<GalleryItem, 'jpeg'>;

/** Everything `renderAuditReport` shows. */
export interface AuditReportData {
  title?: string;
  source: string;
  model: string;
  backend: string;
  /** ISO time the audit ran. */
  createdAt: string;
  /** Methods in display order (CAM names, 'ig', ...). */
  methods: string[];
  settings: AuditSettings;
  /** Frames the audit sampled (for the header; detections may be fewer frames). */
  framesSampled?: number;
  detections: DetectionAudit[];
  temporal: TemporalResult[];
  gallery: GalleryItem[];
  /** `--sanity`: per method, how similar its maps stay when the layers after the CAM layer are randomised. */
  sanity?: Record<string, SanityMethodResult>;
  /** `--labels`: the detector and its maps against ground truth. */
  labels?: LabelsReport;
}

/** The JSON result: the report data minus images, plus the aggregated table. NaN is written as null. */
export interface AuditReportJson extends Omit<AuditReportData, 'gallery' | 'labels'> {
  gallery: GalleryItemJson[];
  /** The labels section without its thumbnails. */
  labels?: LabelsReport;
  summary: AuditSummaryJson;
}
