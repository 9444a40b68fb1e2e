// The `labels` section of an audit (`audit --labels`): the detector and its maps against ground truth.
import type { Box } from '../types.js';

/** One method's maps of the matched detections, scored against the labelled box (ODAM / G-CAME protocol). */
export interface LabelsMethodScore {
  /** Matched detections with a map of this method. */
  n: number;
  /** Share of the maps whose peak lies in the labelled box. */
  pointingHitRate: number;
  /** Mean share of the map's mass inside the labelled box. */
  energyInBox: number;
}

export interface LabelsClassRow {
  label: string;
  /** Labelled boxes of the class on the labelled frames audited. */
  labelled: number;
  /** Detections of the class on those frames. */
  detections: number;
  /** Labelled boxes matched by a detection of their class at IoU ≥ matchIou. */
  hits: number;
  /** hits / labelled, hits / detections (NaN when there are none). */
  recall: number;
  precision: number;
  misses: number;
  /** Labelled boxes of this class taken for another class. */
  confusions: number;
  falsePositives: number;
  methods: Record<string, LabelsMethodScore>;
}

export interface Thumb {
  /** JPEG of the frame with the box and the map (report only; left out of the JSON). */
  jpeg?: Uint8Array;
}

/** A labelled box no detection of its class matched, with its region ("why not") map. */
export interface LabelMiss extends Thumb {
  frame: number;
  time: number;
  label: string;
  box: Box;
  /** The class's best score among the score cells in the box, before the threshold. */
  bestScore: number;
  /** The region map's method (element-wise: HiResCAM, whatever the audited methods). */
  method: string;
  energyInBox: number;
  pointingHit: boolean;
}

/** A detection of another class on a labelled box, with its contrastive maps (detected − labelled class). */
export interface LabelConfusion {
  frame: number;
  time: number;
  /** The labelled class and box. */
  label: string;
  labelBox: Box;
  /** What the detector called it. */
  detected: string;
  score: number;
  box: Box;
  iou: number;
  maps: ({ method: string; versus: string; energyInBox: number; pointingHit: boolean } & Thumb)[];
}

/** A detection matching no labelled box of its class (and confused with none). */
export interface LabelFalsePositive extends Thumb {
  frame: number;
  time: number;
  label: string;
  score: number;
  box: Box;
  /** The method of the thumbnail's map, when it has one. */
  method?: string;
}

export interface LabelsReport {
  /** The labels file's name. */
  file: string;
  matchIou: number;
  /** Audited frames that had labels. */
  framesLabelled: number;
  /** Labelled frames the audit did not sample (outside --start/--duration/--every/--max-frames). */
  framesNotSampled: number[];
  perClass: LabelsClassRow[];
  misses: LabelMiss[];
  confusions: LabelConfusion[];
  falsePositives: LabelFalsePositive[];
}
