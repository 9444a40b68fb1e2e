// The values that flow through the saliencam pipeline, stage by stage:
//   Frame ─► (detect + explain) ─► ExplainedFrame ─► (smooth) ─► ExplainedFrame ─► (render) ─► RenderedFrame
// Each stage knows only its input type. Pixel buffers are plain typed arrays (no tensors cross a stage).
import type { Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';

/** Axis-aligned box in source-image pixels: [x1, y1, x2, y2]. */
export type Box = [number, number, number, number];

/** One decoded video frame (or still image), packed RGB, 8 bits per channel. */
export interface Frame {
  /** 0-based index in the source (after --start / --every are applied, still the source's own index). */
  index: number;
  /** Presentation time in seconds from the start of the source. */
  time: number;
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major RGB. */
  rgb: Uint8Array;
}

export interface Detection {
  label: string;
  /** 0-based COCO-80 index (or the custom model's own class index). */
  classId: number;
  score: number;
  box: Box;
}

// The settings (methods, colormaps, explain and render options) are defined once, as a schema, in settings.ts;
// this file takes only their types (their values, `CAM_METHODS` and `COLORMAPS`, come from settings.ts).
export type { CamMethodName, ColormapName, ExplainOptions, RenderOptions } from './settings.js';
import type { CamMethodName, ExplainOptions } from './settings.js';

/**
 * A saliency map covering the whole source frame, at the map's own (usually low) resolution.
 * Values are normalised to [0, 1]. Upsampling to the frame size is the renderer's job.
 */
export interface SaliencyMap {
  /** Class label the map explains. */
  label: string;
  classId: number;
  /** Set when the map explains one detection (index into the frame's detections) instead of a whole class. */
  detectionIndex?: number;
  /** Set for a region ("why not") map: the box whose best cell of the class it explains. */
  region?: Box;
  /** Set for a contrastive map: score(label) − score(versus) at the detection's cells. */
  versus?: string;
  width: number;
  height: number;
  /** width * height values in [0, 1], row-major. */
  data: Float32Array;
  /** The method's map before min-max normalisation (the engine's maps carry it; derived maps may not). */
  raw?: Float32Array;
}

/** Per-map statistics, as in the JSON result's `saliency` array. */
export interface SaliencyStats {
  label: string;
  detectionIndex?: number;
  /** The class subtracted (contrastive map). */
  versus?: string;
  /** Share of the map's mass inside the explained boxes (energy-based pointing game). */
  energyInBoxes: number;
  /** Share of the image the explained boxes cover (what a uniform random map scores). */
  areaInBoxes: number;
  /** Map maximum in source pixels [x, y]. */
  peak: [number, number];
  /** Whether the peak falls inside one of the explained boxes. */
  pointingHit: boolean;
}

export interface Timing {
  detectMs: number;
  saliencyMs: number;
  totalMs: number;
}

/** The per-frame JSON record (`explain --json`, one NDJSON line of `export --sidecar`). */
export interface ExplainRecord {
  source: string;
  frame?: number;
  time?: number;
  width: number;
  height: number;
  model: string;
  backend: string;
  method: CamMethodName;
  /** The method's own parameters (`methodParams[method]` of the settings), for a method that has some. */
  methodParams?: Record<string, string | number | boolean>;
  detections: Detection[];
  saliency: SaliencyStats[];
  /** Region ("why not") targets, in the order asked. */
  why?: WhyStats[];
  timing: Timing;
}

/** A region target's answer: the class's best score in the box (before the threshold) and where its map looks. */
export interface WhyStats {
  label: string;
  box: Box;
  /** The class's best score (probability) among the score cells centred in the box. */
  bestScore: number;
  /** How many score cells are centred in the box (0: the box is smaller than a cell; the nearest was taken). */
  cells: number;
  /** The method of its map (region maps are element-wise: HiResCAM). */
  method: string;
  /** Share of the map's mass inside the box, and the box's share of the image. */
  energyInBox: number;
  areaInBox: number;
  peak: [number, number];
  /** Whether the map's peak falls inside the box. */
  pointingHit: boolean;
}

/** A frame after detection and explanation: the record plus the maps themselves. */
export interface ExplainedFrame {
  frame: Frame;
  detections: Detection[];
  maps: SaliencyMap[];
  record: ExplainRecord;
}

/** A frame explained by several CAM methods from one forward pass (`AuditableExplainer.explainMethods`). */
export interface MethodsExplainedFrame {
  frame: Frame;
  detections: Detection[];
  /** Per method asked, its maps: those `explain` with that method returns (region maps included). */
  mapsByMethod: Partial<Record<CamMethodName, SaliencyMap[]>>;
  /** Per method, ms spent on its maps plus an even share of the forward pass (together about the call's time). */
  msByMethod: Partial<Record<CamMethodName, number>>;
}

/** A frame ready to show or encode. */
export interface RenderedFrame {
  explained: ExplainedFrame;
  width: number;
  height: number;
  /** Raw RGB of the overlaid frame (for the encoder), width * height * 3. */
  rgb: Uint8Array;
}

/**
 * The one explainer interface: detector + CAM on one TF.js backend, in this thread (src/engine.ts's Engine)
 * or in a pool of worker threads (src/explain/worker-pool.ts); `createExplainer` (src/explain/create.ts)
 * picks one. Every tensor made for a frame is freed before `explain` resolves.
 */
export interface Explainer {
  readonly backend: string;
  readonly model: string;
  /** Every class the model knows. */
  readonly classNames: readonly string[];
  /** The CAM methods this model can run (the registry's capability flags against the model). */
  readonly methods: readonly CamMethodName[];
  /** Frames it works on at once (worker threads); the pipeline keeps at least this many in flight. */
  readonly concurrency: number;
  /**
   * Rejects with an AbortError when `signal` fires before the frame is done: a queued frame is dropped and a
   * frame being explained in a worker stops there (the worker is replaced). In this thread, a frame already
   * running finishes first. The record's `source` is empty: whoever knows where the frame came from stamps it
   * (the pipeline's `explainFrames`, or the caller of a still), once.
   */
  explain(frame: Frame, options?: Partial<ExplainOptions>, signal?: AbortSignal): Promise<ExplainedFrame>;
  /** Run a dummy frame so that kernels are compiled before the first real one; returns its time in ms. */
  warmUp(): Promise<number>;
  dispose(): void;
}

/** A detected object with where its score sits in the model's raw outputs (for score-based attribution). */
export interface ScoredDetection extends Detection {
  /** Indices into the score heads, for `AuditableExplainer.scoreFunction`. */
  scoreIndices: number[][];
}

/** What the faithfulness audit needs beyond explaining: batched re-detection and a differentiable score. */
export interface AuditableExplainer extends Explainer {
  /** The explain options used when a call leaves one out. */
  readonly defaults: ExplainOptions;
  /** Most images the model takes in one forward pass (Infinity: any). */
  readonly batchLimit: number;
  /** Throws a UserError (one line) when the options cannot be explained with this model. */
  checkOptions(options: ExplainOptions): void;
  /** `explain` with each of `methods` (replacing the options' method) from one forward pass, gradients shared. */
  explainMethods(frame: Frame, methods: readonly CamMethodName[], options?: Partial<ExplainOptions>, signal?: AbortSignal): Promise<MethodsExplainedFrame>;
  detectBatch(images: Uint8Array[], width: number, height: number, minScore?: number): Promise<ScoredDetection[][]>;
  /** The frame in the space the audit perturbs (the model's input size where the model stretches frames). */
  auditInput(frame: Frame): { width: number; height: number; data: Float32Array };
  /** Detections on auditInput-space images; boxes in pixels of a frameWidth × frameHeight frame. */
  detectInputs(images: Float32Array[], width: number, height: number, frameWidth: number, frameHeight: number, minScore?: number): Promise<ScoredDetection[][]>;
  /** Model input x [B,H,W,3] (RGB 0-255) → the pre-activation score at `scoreIndices` per row [B]. */
  scoreFunction(scoreIndices: number[][]): (x: Tensor4D) => Tensor1D;
}
