// Tracks and temporal stability for frames that may arrive out of drive order (a budgeted audit visits them
// spread over the drive). Frames are taken in drive order as soon as they are contiguous; a gap between two
// audited frames (a candidate frame never visited) ends every track, as a missed frame does.
import type { FrameCollector } from './collectors.js';
import { TemporalCollector } from './temporal.js';
import { IouTracker } from './tracker.js';
import type { Detection, SaliencyMap } from '../types.js';
import type { AuditSettings, DetectionAudit, TemporalResult } from './types.js';

interface Visited {
  ordinal: number;
  /** Every detection of the frame (the tracker sees the unaudited ones too). */
  found: readonly Detection[];
  audits: readonly DetectionAudit[];
  /** method -> map per detection index. */
  maps: ReadonlyMap<string, readonly (SaliencyMap | undefined)[]>;
}

export class TrackCollector implements FrameCollector {
  private readonly pending = new Map<number, Visited>();
  private next = 0;
  private tracker: IouTracker;
  private temporal: TemporalCollector | undefined;
  /** Track ids stay unique across trackers: a new tracker's ids start past every id given so far. */
  private idBase = 0;
  private idEnd = 0;

  constructor(private readonly settings: AuditSettings) {
    this.tracker = new IouTracker(settings.trackIou);
  }

  /** Sets `trackId` on the frame's audits once its turn in drive order comes (now, or when the gap fills). */
  add(frame: { width: number; height: number }, got: Omit<Visited, 'ordinal'>, ordinal: number): void {
    this.temporal ??= TemporalCollector.fromSettings(frame.width, frame.height, this.settings);
    this.pending.set(ordinal, { ordinal, found: got.found, audits: got.audits, maps: got.maps });
    while (this.pending.has(this.next)) this.take(this.pending.get(this.next)!, false);
  }

  /** Takes the frames still waiting (in drive order, a new tracker after each gap) and returns the results. */
  results(): TemporalResult[] {
    for (const ordinal of [...this.pending.keys()].sort((a, b) => a - b)) this.take(this.pending.get(ordinal)!, ordinal !== this.next);
    return this.temporal?.results() ?? [];
  }

  private take(v: Visited, afterGap: boolean): void {
    if (afterGap) {
      this.tracker = new IouTracker(this.settings.trackIou);
      this.idBase = this.idEnd;
    }
    this.pending.delete(v.ordinal);
    this.next = v.ordinal + 1;
    const ids = this.tracker.update(v.found).map((id) => id + this.idBase);
    this.idEnd = Math.max(this.idEnd, ...ids.map((id) => id + 1));
    for (const a of v.audits) {
      const trackId = ids[a.detectionIndex]!;
      a.trackId = trackId;
      for (const m of Object.keys(a.methods)) {
        const map = v.maps.get(m)?.[a.detectionIndex];
        if (map) this.temporal!.add(m, trackId, { frame: a.frame, label: a.label, classId: a.classId, box: a.box, map });
      }
    }
  }
}
