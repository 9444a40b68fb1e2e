// The frame engine: one frame in, detections + one saliency map per target out. Every tensor made for a
// frame is released before `explain` resolves (a test counts them over hundreds of frames).
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from './errors.js';
import { initBackend, type BackendChoice } from './model/backend.js';
import type { DetectedObject, Detector } from './model/detector.js';
import { resizedFrame } from './model/frame-input.js';
import { loadDetector } from './model/registry.js';
import { DEFAULT_EXPLAIN, explainSchema, settingsIssue } from './settings.js';
import { camMethod, methodsFor } from './saliency/methods/index.js';
import { DetectorGraph, GraphCamContext, sharedLayers, type GradientCounts, type GradientPath, type TargetBatching } from './saliency/graph-context.js';
import { gatheredScore } from './saliency/targets.js';
import { checkFailureOptions, detectionTargetsFor, REGION_METHOD, regionTargetsFor, type RegionFound } from './saliency/failure-targets.js';
import { camMaps, frameRecord, round } from './engine-maps.js';
import type { CamMethodName, Detection, ExplainedFrame, ExplainOptions, AuditableExplainer, Frame, MethodsExplainedFrame, SaliencyMap } from './types.js';

export interface EngineOptions {
  model?: string;
  adapter?: string;
  /** A file of class names for the model (`--names`), one per line or a YAML/JSON list. */
  names?: string;
  backend?: BackendChoice;
  /** Override the detector's CAM layer (single-layer methods). */
  layer?: string;
  /**
   * How K targets share backward passes. Default: batched on GPU backends (where batching is what makes K
   * cheap), sequential on WASM/CPU (`npm run bench` measured K=8 batched slower than 8 passes there).
   */
  batching?: TargetBatching | 'auto';
  /** 'fast' (default): the detector's exact gradient-sum shortcut where it offers one; 'full': always backward. */
  gradients?: GradientPath;
  /**
   * Explain in this many worker threads, each with its own backend instance ('auto': one per core, up to 4,
   * on WASM/CPU, whose kernels run one thread under Node; none on GPU backends). 0 = in this thread.
   */
  workers?: number | 'auto';
  defaults?: Partial<ExplainOptions>;
  warn?: (msg: string) => void;
}

export { DEFAULT_EXPLAIN };

/** explainNow's result: every asked method's maps from one forward pass, before a record is made of one of them. */
interface Explained {
  frame: Frame;
  o: ExplainOptions;
  found: DetectedObject[];
  detections: Detection[];
  mapsByMethod: Map<CamMethodName, SaliencyMap[]>;
  msByMethod: Map<CamMethodName, number>;
  regionMaps: SaliencyMap[];
  regions?: RegionFound;
  times: [number, number, number];
}

/** Validate explain options up front (torch-cam style), against the settings schema: bad values never reach the model. */
export function checkExplainOptions(o: ExplainOptions, detector: Detector): void {
  const r = explainSchema.safeParse(o);
  if (!r.success) throw new UserError(settingsIssue(r.error));
  for (const c of o.classes) {
    if (!detector.classNames.includes(c)) throw new UserError(`unknown class "${c}" for model ${detector.name} (e.g. ${detector.classNames.slice(0, 8).join(', ')}, …)`);
  }
  checkFailureOptions(o, detector);
}

export class Engine implements AuditableExplainer {
  readonly model: string;
  /** One TF.js engine runs one frame at a time. */
  readonly concurrency = 1;
  private readonly graph: DetectorGraph;
  private disposed = false;

  private constructor(
    readonly detector: Detector,
    readonly backend: string,
    private readonly options: EngineOptions,
    readonly defaults: ExplainOptions,
  ) {
    this.model = detector.name;
    this.graph = new DetectorGraph(detector, options.gradients ?? 'fast');
  }

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const backend = await initBackend(options.backend ?? 'auto', options.warn);
    const detector = await loadDetector(options.model ?? 'centernet', options.adapter, options.names);
    const defaults = { ...DEFAULT_EXPLAIN, ...options.defaults };
    checkExplainOptions(defaults, detector);
    if (options.layer && !detector.graph.nodes.some((n) => n.name === options.layer)) {
      throw new UserError(`layer ${options.layer} is not a node of model ${detector.name}`);
    }
    const batching: TargetBatching =
      options.batching && options.batching !== 'auto' ? options.batching : backend === 'wasm' || backend === 'cpu' ? 'sequential' : 'batched';
    return new Engine(detector, backend, { ...options, batching }, defaults);
  }

  /** Run one dummy frame so that kernels (and WebGPU shaders) are compiled before the first real one. */
  async warmUp(width = 640, height = 360): Promise<number> {
    const t0 = performance.now();
    const rgb = new Uint8Array(width * height * 3).fill(96);
    // minScore 0 on one class: a featureless frame still yields peaks, so the CAM kernels compile too.
    // No region or contrastive targets: the defaults' boxes are in the real source's pixels, not this frame's.
    await this.explain({ index: 0, time: 0, width, height, rgb }, { minScore: 0, classes: [this.detector.classNames[0]!], why: [], versus: null });
    return performance.now() - t0;
  }

  /** Changes the model's weights (the sanity check) in every copy the engine runs, the probed twin included. */
  editWeights(edit: (model: Detector['graph']['model']) => void): void {
    this.graph.editWeights(edit);
  }

  /** How gradients were computed so far (shortcut sums, backward passes). */
  get gradientCounts(): Readonly<GradientCounts> {
    return this.graph.counts;
  }

  get classNames(): readonly string[] {
    return this.detector.classNames;
  }

  /** Whether `why` regions can be explained: the detector has score cells over the image (a classifier has none). */
  get explainsRegions(): boolean {
    return this.detector.regionBest !== undefined;
  }

  get methods(): readonly CamMethodName[] {
    return methodsFor(this.detector);
  }

  /** The built-in graphs declare a batch of 1 on their input placeholder and TF.js refuses any other size. */
  get batchLimit(): number {
    const n = this.detector.graph.model.inputs[0]?.shape?.[0];
    return n !== undefined && n !== null && n > 0 ? n : Number.POSITIVE_INFINITY;
  }

  checkOptions(options: ExplainOptions): void {
    checkExplainOptions(options, this.detector);
  }

  layersFor(multiLayer: boolean): string[] {
    return multiLayer ? [...this.detector.polyLayers] : [this.options.layer ?? this.detector.camLayer];
  }

  /** Calls are queued: one TF.js engine runs one frame at a time (callers may still fire them eagerly). */
  explain(frame: Frame, overrides: Partial<ExplainOptions> = {}, signal?: AbortSignal): Promise<ExplainedFrame> {
    return this.enqueue(signal, async () => {
      const x = await this.explainNow(frame, overrides);
      return this.explained(x, x.o.method);
    });
  }

  /**
   * The frame explained by each of `methods` (they replace the options' `method`) from one forward pass: the
   * union of their layers is fetched once, each method computes on the same context, and gradients are shared
   * where one backward pass serves several methods. Each method's maps equal `explain`'s with that method.
   */
  explainMethods(frame: Frame, methods: readonly CamMethodName[], overrides: Partial<ExplainOptions> = {}, signal?: AbortSignal): Promise<MethodsExplainedFrame> {
    return this.enqueue(signal, async () => this.byMethod(await this.explainNow(frame, overrides, undefined, methods), methods));
  }

  /** explainMethods for given detections instead of the frame's own (the audit's sanity check: same targets, changed weights). */
  explainDetections(frame: Frame, given: DetectedObject[], methods: readonly CamMethodName[], overrides: Partial<ExplainOptions> = {}): Promise<MethodsExplainedFrame> {
    return this.enqueue(undefined, async () => this.byMethod(await this.explainNow(frame, overrides, given, methods), methods));
  }

  private byMethod(x: Explained, methods: readonly CamMethodName[]): MethodsExplainedFrame {
    return {
      frame: x.frame,
      detections: x.detections,
      mapsByMethod: Object.fromEntries(methods.map((m) => [m, [...x.mapsByMethod.get(m)!, ...x.regionMaps]])),
      msByMethod: Object.fromEntries(x.msByMethod),
    };
  }

  private queue: Promise<unknown> = Promise.resolve();

  private enqueue<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      // Cancelled while queued: skip it. A frame already running cannot be stopped in this thread.
      signal?.throwIfAborted();
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One method's result as `explain` returns it: its maps, the region maps, and the JSON record. */
  private explained(x: Explained, method: CamMethodName): ExplainedFrame {
    const maps = [...x.mapsByMethod.get(method)!, ...x.regionMaps];
    const record = frameRecord({ frame: x.frame, model: this.detector.name, backend: this.backend, o: x.o, found: x.found, detections: x.detections, maps, ...(x.regions ? { regions: x.regions } : {}), times: x.times });
    return { frame: x.frame, detections: x.detections, maps, record };
  }

  /** Forward counts: how many frames `explain`/`explainMethods` ran through the model (a test proves the sharing by it). */
  get explainForwards(): number {
    return this.forwards;
  }

  private forwards = 0;

  /** The one explain path: one forward pass, then each method's maps on the same context (and the region maps). */
  private async explainNow(frame: Frame, overrides: Partial<ExplainOptions>, given?: DetectedObject[], names?: readonly CamMethodName[]): Promise<Explained> {
    if (this.disposed) throw new Error('engine disposed');
    const o: ExplainOptions = { ...this.defaults, ...overrides };
    // The defaults were checked in create(); only overrides need a check (not a re-parse of every frame's defaults).
    if (Object.keys(overrides).length > 0) checkExplainOptions(o, this.detector);
    const asked = [...new Set(names ?? [o.method])];
    const methods = asked.map((n) => camMethod(n, o.methodParams));
    const layersOf = methods.map((m) => this.layersFor(m.multiLayer));
    methods.forEach((m, i) => {
      if (m.multiLayer && layersOf[i]!.length < 2) throw new UserError(`${m.name} needs the model adapter to list polyLayers`);
    });
    const d = this.detector;
    const t0 = performance.now();

    const input = d.preprocess(frame);
    // maxTargets 0 (detection only): the forward fetches the decode nodes alone, nothing kept for saliency.
    const explaining = o.maxTargets !== 0 || o.why.length > 0;
    const gradientLayers = explaining ? methods.flatMap((m, i) => (m.needsGradients ? [layersOf[i]!] : [])) : [];
    // Several gradient methods whose layers nest: one backward pass over the widest set serves them all.
    const shared = gradientLayers.length > 1 ? sharedLayers(gradientLayers) : undefined;
    const gradientFeeds = [...gradientLayers, ...(shared ? [shared] : [])].flatMap((l) => this.graph.gradientFetches(this.graph.feedLayer(l)));
    // Region targets are explained element-wise at the single CAM layer (failure-targets.ts says why).
    const regionLayer = this.layersFor(false);
    const regionFeeds = o.why.length ? [...regionLayer, ...this.graph.frontierOf(regionLayer[0]!)] : [];
    const fetchNames = [...new Set([...d.decodeNodes, ...(explaining ? layersOf.flat() : []), ...gradientFeeds, ...regionFeeds])];
    // TF.js returns a bare tensor, not a list, when one node is fetched (a single-output model, detection only).
    const executed = d.graph.model.execute({ [d.inputName]: input }, fetchNames);
    this.forwards++;
    const fetchedList = Array.isArray(executed) ? executed : [executed];
    const fetched = new Map(fetchNames.map((n, i) => [n, fetchedList[i]!]));
    let ctx: GraphCamContext | undefined;
    try {
      let found = given ?? (await d.decode(d.decodeNodes.map((n) => fetched.get(n)!), frame.width, frame.height, o.minScore, o.classes));
      if (o.classes.length) found = found.filter((x) => o.classes.includes(x.label));
      const t1 = performance.now();

      let targets = detectionTargetsFor(found, o, d);
      if (o.maxTargets !== undefined) targets = targets.slice(0, o.maxTargets);
      // Region targets ("why not here") come after the detections' and are never cut.
      const regions = o.why.length ? await regionTargetsFor(d, d.decodeNodes.map((n) => fetched.get(n)!), o, frame.width, frame.height) : undefined;
      // Every multi-layer method asks for the same layers (the detector's polyLayers): one probed twin serves them.
      const multi = targets.length ? gradientLayers.find((l) => l.length > 1) : undefined;
      const probed = multi ? await this.graph.probedModel(multi.filter((l) => l !== this.graph.feedLayer(multi))) : undefined;
      ctx = new GraphCamContext(this.graph, input, fetched, this.options.batching as TargetBatching, probed, shared ? { layers: shared, targets } : undefined);
      const mapsByMethod = new Map<CamMethodName, SaliencyMap[]>();
      const msByMethod = new Map<CamMethodName, number>();
      // The method that asks for the shared layers itself goes first: it pays the backward pass it would pay
      // alone, and the others reuse it (so each method's time stays what it costs given the others).
      const widest = (i: number) => Number(methods[i]!.needsGradients && layersOf[i]!.join() === shared?.join());
      const order = [...methods.keys()].sort((a, b) => widest(b) - widest(a));
      for (const i of order) {
        const t = performance.now();
        mapsByMethod.set(asked[i]!, await camMaps(ctx, methods[i]!, layersOf[i]!, targets));
        msByMethod.set(asked[i]!, performance.now() - t);
      }
      const regionMaps = regions ? await camMaps(ctx, REGION_METHOD, regionLayer, regions.targets) : [];
      const t2 = performance.now();
      const detections: Detection[] = found.map(({ label, classId, score, box }) => ({ label, classId, score: round(score, 4), box }));
      // Each method's time: its own maps, plus an even share of the one forward pass and decode.
      for (const m of asked) msByMethod.set(m, msByMethod.get(m)! + (t1 - t0) / asked.length);
      return { frame, o, found, detections, mapsByMethod, msByMethod, regionMaps, ...(regions ? { regions } : {}), times: [t0, t1, t2] };
    } finally {
      ctx?.dispose();
      input.dispose();
      tf.dispose(fetchedList);
    }
  }

  /**
   * Detections on each of a batch of same-size RGB24 images (perturbation metrics re-run the detector on
   * many variants of one frame). Boxes are in source pixels; `scoreIndices` locate each score for targets.
   */
  async detectBatch(images: Uint8Array[], width: number, height: number, minScore = 0.05): Promise<DetectedObject[][]> {
    const d = this.detector;
    const outs = tf.tidy(() => {
      const batch = tf.stack(images.map((rgb) => tf.tensor3d(rgb, [height, width, 3], 'int32'))) as tf.Tensor4D;
      const executed = d.graph.model.execute({ [d.inputName]: d.normalise(batch) }, [...d.decodeNodes]);
      return Array.isArray(executed) ? executed : [executed];
    });
    try {
      const result: DetectedObject[][] = [];
      for (let b = 0; b < images.length; b++) {
        const rows = outs.map((o) => tf.slice(o, b, 1));
        try {
          result.push(await d.decode(rows, width, height, minScore));
        } finally {
          tf.dispose(rows);
        }
      }
      return result;
    } finally {
      tf.dispose(outs);
    }
  }

  /**
   * The audit's perturbation space: the frame as the model sees it (RGB 0-255 floats, NHWC) at the model's input
   * size where the model takes a stretched resize (perturbing 512² instead of 720p frames), else the frame itself.
   */
  auditInput(frame: Frame): { width: number; height: number; data: Float32Array } {
    const d = this.detector;
    if (d.inputResize === undefined) return { width: frame.width, height: frame.height, data: Float32Array.from(frame.rgb) };
    const { width, height } = d.inputSize;
    const t = resizedFrame(frame, width, height, d.inputResize.halfPixelCenters);
    try {
      return { width, height, data: Float32Array.from(t.dataSync()) };
    } finally {
      t.dispose();
    }
  }

  /** detectBatch for `auditInput`-space images (perturbed copies): boxes in frame pixels of frameWidth × frameHeight. */
  async detectInputs(images: Float32Array[], width: number, height: number, frameWidth: number, frameHeight: number, minScore = 0.05): Promise<DetectedObject[][]> {
    const d = this.detector;
    const result: DetectedObject[][] = [];
    for (const img of images) {
      const outs = tf.tidy(() => d.graph.model.execute({ [d.inputName]: d.normalise(tf.tensor4d(img, [1, height, width, 3])) }, [...d.decodeNodes]) as tf.Tensor[]);
      try {
        result.push(await d.decode(outs, frameWidth, frameHeight, minScore));
      } finally {
        tf.dispose(outs);
      }
    }
    return result;
  }

  /**
   * A differentiable score for Integrated Gradients: model inputs x [B,H,W,3] (RGB 0-255, any size; resized
   * like a frame) → the pre-activation score at `scoreIndices` for each row [B].
   */
  scoreFunction(scoreIndices: number[][]): (x: tf.Tensor4D) => tf.Tensor1D {
    const d = this.detector;
    const score = gatheredScore(scoreIndices);
    return (x) => {
      const raw = d.graph.model.execute({ [d.inputName]: d.normalise(x) }, [...d.scoreNodes]);
      const heads = Array.isArray(raw) ? raw : [raw];
      const rows: tf.Scalar[] = [];
      for (let b = 0; b < x.shape[0]; b++) rows.push(score(heads.map((h) => tf.slice(h, b, 1))));
      return tf.stack(rows) as tf.Tensor1D;
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.graph.dispose();
    this.detector.graph.model.dispose();
  }
}
