// `audit --labels`: each labelled frame's detections matched to its labels (ground-truth.ts), the matched
// detections' maps scored against the labelled box, every miss explained by a region ("why not") map, every
// confusion by a contrastive map (detected class − labelled class), and the false positives listed.
import { DEFAULT_METHOD } from '../saliency/methods/index.js';
import { REGION_METHOD } from '../saliency/failure-targets.js';
import type { AuditableExplainer, CamMethodName, Detection, ExplainOptions, Frame, SaliencyMap } from '../types.js';
import { checkpoint, matchDetection } from './engine-bridge.js';
import type { FrameAudit } from './frame-audit.js';
import { matchFrame, type GroundTruth, type LabelledBox } from './ground-truth.js';
import type { LabelConfusion, LabelFalsePositive, LabelMiss, LabelsClassRow, LabelsReport } from './labels-types.js';
import { pointingMetrics } from './pointing.js';
import { detectionThumbnail } from './thumbnail.js';

export const LABELS_MATCH_IOU = 0.5;

export interface LabelsCollectorOptions {
  camMethods: readonly CamMethodName[];
  /** The audited classes (--classes; empty: all): labelled boxes of other classes are left out. */
  classes: readonly string[];
  minScore: number;
  methodParams: ExplainOptions['methodParams'];
  /** Thumbnails kept per kind (misses, confusions, false positives); the lists themselves are whole. */
  thumbnails: number;
  thumbnailWidth: number;
  signal?: AbortSignal;
}

interface ClassTally {
  labelled: number;
  detections: number;
  hits: number;
  misses: number;
  confusions: number;
  falsePositives: number;
  methods: Map<string, { n: number; hits: number; energy: number }>;
}

export class LabelsCollector {
  private readonly tally = new Map<string, ClassTally>();
  private readonly misses: LabelMiss[] = [];
  private readonly confusions: LabelConfusion[] = [];
  private readonly falsePositives: LabelFalsePositive[] = [];
  private readonly seen = new Set<number>();

  constructor(
    private readonly truth: GroundTruth,
    private readonly engine: AuditableExplainer,
    private readonly o: LabelsCollectorOptions,
  ) {}

  /**
   * One audited frame; frames without labels are skipped. The frame's maps are made first and the tallies
   * changed last, so a run stopped part-way through a frame leaves no half-counted frame.
   */
  async add(frame: Frame, got: Pick<FrameAudit, 'found' | 'maps'>): Promise<void> {
    const all = this.truth.boxesFor(frame.index);
    if (!all) return;
    const labels = this.o.classes.length ? all.filter((l) => this.o.classes.includes(l.label)) : all;
    const found = got.found;
    const m = matchFrame(labels, found, LABELS_MATCH_IOU);
    const misses = await this.explainMisses(frame, m.misses.map((i) => labels[i]!));
    const confusions: LabelConfusion[] = [];
    for (const c of m.confusions) confusions.push(await this.explainConfusion(frame, labels[c.label]!, found[c.detection]!, c.iou, this.confusions.length + confusions.length));
    const falsePositives: LabelFalsePositive[] = [];
    for (const i of m.falsePositives) {
      const d = found[i]!;
      const [method, maps] = [...got.maps].find(([, ms]) => ms[i]) ?? [];
      const map = maps?.[i];
      const jpeg = map && this.falsePositives.length + falsePositives.length < this.o.thumbnails ? await this.thumb(frame, d, map) : undefined;
      falsePositives.push({ frame: frame.index, time: frame.time, label: d.label, score: d.score, box: d.box, ...(map ? { method } : {}), ...(jpeg ? { jpeg } : {}) });
    }

    this.seen.add(frame.index);
    for (const l of labels) this.row(l.label).labelled++;
    for (const d of found) this.row(d.label).detections++;
    for (const h of m.hits) {
      const row = this.row(labels[h.label]!.label);
      row.hits++;
      for (const [method, maps] of got.maps) {
        const map = maps[h.detection];
        if (!map) continue;
        const p = pointingMetrics(map, labels[h.label]!.box, frame.width, frame.height);
        const s = row.methods.get(method) ?? { n: 0, hits: 0, energy: 0 };
        row.methods.set(method, { n: s.n + 1, hits: s.hits + p.pointingHit, energy: s.energy + p.energyInBoxes });
      }
    }
    for (const x of misses) this.row(x.label).misses++;
    for (const x of confusions) this.row(x.label).confusions++;
    for (const x of falsePositives) this.row(x.label).falsePositives++;
    this.misses.push(...misses);
    this.confusions.push(...confusions);
    this.falsePositives.push(...falsePositives);
  }

  /** Every miss of the frame, 16 regions per explain call (the most the engine takes at once). */
  private async explainMisses(frame: Frame, missed: LabelledBox[]): Promise<LabelMiss[]> {
    const out: LabelMiss[] = [];
    for (let i = 0; i < missed.length; i += 16) {
      const chunk = missed.slice(i, i + 16);
      await checkpoint(this.o.signal);
      const ex = await this.engine.explain(frame, {
        method: this.o.camMethods[0] ?? DEFAULT_METHOD,
        why: chunk.map((l) => ({ label: l.label, box: l.box })),
        classes: [...new Set(chunk.map((l) => l.label))],
        minScore: this.o.minScore,
        methodParams: this.o.methodParams,
        // Region maps only: the detections' own maps are the audit's.
        maxTargets: 0,
      });
      const maps = ex.maps.filter((m) => m.region);
      for (const [k, l] of chunk.entries()) {
        const w = ex.record.why?.[k];
        const map = maps[k];
        const jpeg = map && w && this.misses.length + out.length < this.o.thumbnails ? await this.thumb(frame, { label: l.label, classId: l.classId, score: w.bestScore, box: l.box }, map) : undefined;
        out.push({
          frame: frame.index,
          time: frame.time,
          label: l.label,
          box: l.box,
          bestScore: w?.bestScore ?? NaN,
          method: w?.method ?? REGION_METHOD.name,
          energyInBox: w?.energyInBox ?? NaN,
          pointingHit: w?.pointingHit ?? false,
          ...(jpeg ? { jpeg } : {}),
        });
      }
    }
    return out;
  }

  /** "Why <detected> rather than <labelled>": the detection's contrastive map with each CAM method. */
  private async explainConfusion(frame: Frame, l: LabelledBox, d: Detection, overlap: number, before: number): Promise<LabelConfusion> {
    const maps: LabelConfusion['maps'] = [];
    for (const method of this.o.camMethods) {
      await checkpoint(this.o.signal);
      const ex = await this.engine.explain(frame, { method, perDetection: true, versus: l.label, classes: [d.label], minScore: Math.min(this.o.minScore, d.score), methodParams: this.o.methodParams });
      // explain decodes the same heads; its boxes may differ from the batch detector's by a pixel.
      const j = matchDetection(ex.detections, d);
      const map = ex.maps.find((m) => m.detectionIndex === j && m.versus);
      if (!map) continue;
      const p = pointingMetrics(map, l.box, frame.width, frame.height);
      const jpeg = before < this.o.thumbnails ? await this.thumb(frame, d, map) : undefined;
      maps.push({ method, versus: l.label, energyInBox: p.energyInBoxes, pointingHit: p.pointingHit === 1, ...(jpeg ? { jpeg } : {}) });
    }
    return { frame: frame.index, time: frame.time, label: l.label, labelBox: l.box, detected: d.label, score: d.score, box: d.box, iou: overlap, maps };
  }

  private thumb(frame: Frame, d: Detection, map: SaliencyMap): Promise<Uint8Array> {
    return detectionThumbnail(frame, d, map, this.engine.model, this.engine.backend, { width: this.o.thumbnailWidth, quality: 75 });
  }

  private row(label: string): ClassTally {
    let t = this.tally.get(label);
    if (!t) this.tally.set(label, (t = { labelled: 0, detections: 0, hits: 0, misses: 0, confusions: 0, falsePositives: 0, methods: new Map() }));
    return t;
  }

  results(): LabelsReport {
    const perClass: LabelsClassRow[] = [...this.tally.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, t]) => ({
        label,
        labelled: t.labelled,
        detections: t.detections,
        hits: t.hits,
        recall: t.labelled ? t.hits / t.labelled : NaN,
        precision: t.detections ? t.hits / t.detections : NaN,
        misses: t.misses,
        confusions: t.confusions,
        falsePositives: t.falsePositives,
        methods: Object.fromEntries([...t.methods].map(([m, s]) => [m, { n: s.n, pointingHitRate: s.hits / s.n, energyInBox: s.energy / s.n }])),
      }));
    return {
      file: this.truth.file,
      matchIou: LABELS_MATCH_IOU,
      framesLabelled: this.seen.size,
      framesNotSampled: this.truth.frames.filter((f) => !this.seen.has(f)),
      perClass,
      // In drive order (a budgeted audit visits frames spread over the drive).
      misses: byFrame(this.misses),
      confusions: byFrame(this.confusions),
      falsePositives: byFrame(this.falsePositives),
    };
  }
}

const byFrame = <T extends { frame: number }>(list: readonly T[]): T[] => [...list].sort((a, b) => a.frame - b.frame);
