// What an audit keeps of each audited frame, one collector per part of the report: runAudit hands every
// frame to each in turn and asks them for their part at the end. A collector changes its state only once the
// whole frame is in, so a run stopped part-way leaves no half-counted frame.
import type { AuditableExplainer, Frame, ScoredDetection } from '../types.js';
import { clusterBootstrap } from './bootstrap.js';
import { galleryItems, type FrameAudit } from './frame-audit.js';
import type { DetectionAudit, GalleryItem } from './types.js';
import { WorstKeeper } from './worst.js';

export interface FrameCollector {
  /** One audited frame; `ordinal` is its place among the candidate frames (adjacent = consecutive). */
  add(frame: Frame, got: FrameAudit, ordinal: number): void | Promise<void>;
}

/** Every audited detection, for the report's tables and intervals. */
export class DetectionsCollector implements FrameCollector {
  private readonly audits: DetectionAudit[] = [];
  private readonly frames = new Set<number>();

  add(frame: Frame, got: FrameAudit): void {
    this.audits.push(...got.audits);
    if (got.audits.length) this.frames.add(frame.index);
  }

  get count(): number {
    return this.audits.length;
  }

  /** In drive order (a budgeted audit visits frames out of it). */
  results(): DetectionAudit[] {
    return [...this.audits].sort((a, b) => a.frame - b.frame || a.detectionIndex - b.detectionIndex);
  }

  /** Current 95 % interval width of each method's deletion AUC (what the progress bar shows). */
  intervalWidths(methods: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    // One frame's resamples are all alike: no width to show yet.
    if (this.frames.size < 2) return out;
    for (const m of methods) {
      const ci = clusterBootstrap(this.audits.map((a) => ({ value: a.methods[m]?.deletionAuc ?? NaN, cluster: a.frame })), { resamples: 200 }).ci95;
      if (Number.isFinite(ci[0]) && Number.isFinite(ci[1])) out[m] = ci[1] - ci[0];
    }
    return out;
  }
}

/** The report's gallery: the worst maps (lowest energy in the box), thumbnails rendered only when kept. */
export class GalleryCollector implements FrameCollector {
  private readonly keeper: WorstKeeper<GalleryItem>;

  constructor(
    size: number,
    private readonly engine: AuditableExplainer,
    private readonly thumbnailWidth: number,
  ) {
    this.keeper = new WorstKeeper<GalleryItem>(size);
  }

  async add(frame: Frame, got: FrameAudit): Promise<void> {
    const items = await galleryItems(frame, got, this.keeper, this.engine, this.thumbnailWidth);
    for (const item of items) this.keeper.offer(item.energyInBoxes, item);
  }

  results(): GalleryItem[] {
    return this.keeper.items().map((k) => k.item);
  }
}

/**
 * The frames `--sanity` explains again at each step of its cascade: up to `size` frames with detections,
 * spread over the drive. Frames come in drive order (kept at evenly spaced ordinals of the `candidates`) or,
 * with a budget, already spread (the first ones kept).
 */
export class SanityFrames implements FrameCollector {
  private readonly kept: { frame: Frame; found: ScoredDetection[]; ordinal: number; explainMs: number }[] = [];

  constructor(
    private readonly size: number,
    /** Candidate frames in drive order, when known and visited in drive order; else undefined. */
    private readonly candidates: number | undefined,
    /** Whether the cascade may explain frames taking this long once (a budget caps it); default: any. */
    private readonly affordable: (explainMs: number) => boolean = () => true,
  ) {}

  add(frame: Frame, got: FrameAudit, ordinal: number): void {
    if (!this.wants(ordinal, got.explainMs) || got.found.length === 0) return;
    this.kept.push({ frame, found: got.found, ordinal, explainMs: got.explainMs });
  }

  /** Whether a frame at `ordinal` (with detections, explained in `explainMs`) would be kept. */
  wants(ordinal: number, explainMs = 0): boolean {
    if (this.kept.length >= this.size || !this.affordable(this.explainMs + explainMs)) return false;
    if (this.candidates === undefined) return true;
    // The k-th kept frame waits for the k-th of `size` evenly spaced ordinals (or later, if that one had no detections).
    return ordinal >= Math.floor((this.kept.length * this.candidates) / this.size);
  }

  /** Explaining time of the kept frames (all methods once): the cascade repeats it once per step. */
  get explainMs(): number {
    return this.kept.reduce((s, k) => s + k.explainMs, 0);
  }

  get frames(): { frame: Frame; found: ScoredDetection[] }[] {
    return this.kept.map(({ frame, found }) => ({ frame, found }));
  }
}
