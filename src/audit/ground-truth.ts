// Ground truth for `audit --labels`: a COCO detection file (what `export --output dir/` writes as labels.json,
// corrected in CVAT or FiftyOne, or hand-written), checked at the edge, its categories tied to the model's
// classes, its images tied to the audited frames; and the matching of one frame's detections to its labels.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { datasetCategories } from '../output/categories.js';
import { classifySource } from '../video/index.js';
import type { Box, Detection } from '../types.js';
import { iou } from './box.js';

const id = z.number().int();
const labelsSchema = z.object({
  images: z.array(
    z.object({
      id,
      file_name: z.string().min(1),
      // A video's frame: `frame_index` (CVAT, FiftyOne) or `frame` (saliencam's own export).
      frame_index: z.number().int().min(0).optional(),
      frame: z.number().int().min(0).optional(),
    }),
  ),
  annotations: z.array(
    z.object({
      image_id: id,
      category_id: id,
      bbox: z.tuple([z.number(), z.number(), z.number().min(0), z.number().min(0)]),
    }),
  ),
  categories: z.array(z.object({ id, name: z.string().min(1) })).min(1),
});

/** One labelled box, in the model's class numbering. */
export interface LabelledBox {
  label: string;
  classId: number;
  box: Box;
}

export interface GroundTruth {
  /** The labels file's name (for the report). */
  file: string;
  /** The labelled boxes of a frame; undefined when the frame has no image in the file (not labelled). */
  boxesFor(frameIndex: number): LabelledBox[] | undefined;
  /** Frame indices with labels (for "labelled but not sampled"). */
  frames: number[];
}

export type LabelsFile = z.infer<typeof labelsSchema> & { name: string };

/** Reads and checks the labels file (before the model loads: a bad file fails at once). */
export async function readLabelsFile(path: string): Promise<LabelsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError(`--labels ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError(`--labels ${path}: not JSON`);
  }
  const parsed = labelsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`--labels ${path}: not a COCO detection file: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return { ...parsed.data, name: basename(path) };
}

/** The source's file names by frame index: a still's one, an image sequence's each; none for a video. */
export function sourceFiles(source: string): string[] {
  if (source === '-') return [];
  const spec = classifySource(source);
  return spec.kind === 'image' ? [source] : (spec.files ?? []);
}

/**
 * The labels tied to the model's classes and the source's frames. `files`: see sourceFiles; images without a
 * frame index are matched to them by name.
 */
export function groundTruth(coco: LabelsFile, classNames: readonly string[], files: readonly string[]): GroundTruth {
  const file = coco.name;
  const fail = (msg: string): never => {
    throw new UserError(`--labels ${file}: ${msg}`);
  };
  // Categories: by id as the export numbers them (COCO's own ids for COCO's classes), else by name.
  const { idOf } = datasetCategories(classNames);
  const classOfCategory = new Map<number, number>();
  for (const c of coco.categories) {
    const byName = classNames.indexOf(c.name);
    const byId = classNames.findIndex((_, i) => idOf(i) === c.id);
    const k = byName >= 0 ? byName : byId;
    if (k >= 0) classOfCategory.set(c.id, k);
  }
  const byName = new Map(files.map((f, i) => [basename(f), i] as const));
  const frameOfImage = new Map<number, number>();
  for (const im of coco.images) {
    const index = im.frame_index ?? im.frame ?? byName.get(basename(im.file_name));
    if (index === undefined) fail(`image "${im.file_name}" has no frame_index and names no file of the source`);
    frameOfImage.set(im.id, index!);
  }
  const boxes = new Map<number, LabelledBox[]>([...frameOfImage.values()].map((f) => [f, []]));
  for (const a of coco.annotations) {
    const frame = frameOfImage.get(a.image_id);
    if (frame === undefined) fail(`annotation on image_id ${a.image_id}, which is not in images`);
    const classId = classOfCategory.get(a.category_id);
    if (classId === undefined) {
      const name = coco.categories.find((c) => c.id === a.category_id)?.name;
      fail(`category ${name ? `"${name}" (id ${a.category_id})` : `id ${a.category_id}`} is not a class of the model`);
    }
    const [x, y, w, h] = a.bbox;
    boxes.get(frame!)!.push({ label: classNames[classId!]!, classId: classId!, box: [x, y, x + w, y + h] });
  }
  return { file, boxesFor: (f) => boxes.get(f), frames: [...boxes.keys()].sort((a, b) => a - b) };
}

/** A frame's detections against its labels at one IoU. Indices point into the lists given. */
export interface FrameMatch {
  /** Labelled box → the detection of its class matched to it (greedy by score, one each). */
  hits: { label: number; detection: number; iou: number }[];
  /** Labelled boxes no detection of their class matched. */
  misses: number[];
  /** Detections of another class on a labelled box (IoU ≥ threshold) that matched no box of their own class. */
  confusions: { label: number; detection: number; iou: number }[];
  /** The other unmatched detections (on no labelled box, or a second detection of a box already matched). */
  falsePositives: number[];
}

export function matchFrame(labels: readonly LabelledBox[], detections: readonly Detection[], minIou = 0.5): FrameMatch {
  const order = detections.map((_, i) => i).sort((a, b) => detections[b]!.score - detections[a]!.score);
  const taken = new Set<number>();
  const matched = new Set<number>();
  const hits: FrameMatch['hits'] = [];
  for (const d of order) {
    let best = -1;
    let bestIou = minIou;
    labels.forEach((l, i) => {
      if (taken.has(i) || l.classId !== detections[d]!.classId) return;
      const o = iou(l.box, detections[d]!.box);
      if (o >= bestIou) [best, bestIou] = [i, o];
    });
    if (best >= 0) {
      taken.add(best);
      matched.add(d);
      hits.push({ label: best, detection: d, iou: bestIou });
    }
  }
  const confusions: FrameMatch['confusions'] = [];
  const falsePositives: number[] = [];
  for (const d of order) {
    if (matched.has(d)) continue;
    let best = -1;
    let bestIou = minIou;
    labels.forEach((l, i) => {
      if (l.classId === detections[d]!.classId) return;
      const o = iou(l.box, detections[d]!.box);
      if (o >= bestIou) [best, bestIou] = [i, o];
    });
    if (best >= 0) confusions.push({ label: best, detection: d, iou: bestIou });
    else falsePositives.push(d);
  }
  const misses = labels.map((_, i) => i).filter((i) => !taken.has(i));
  return { hits: hits.sort((a, b) => a.label - b.label), misses, confusions, falsePositives };
}
