// What a fleet job carries, checked with zod on both sides: `fleet add` builds it, the worker refuses anything
// that does not parse (a job is data from the network, never trusted). The settings part is what the job id
// hashes, so the same drive with the same settings is the same job.
import { z } from 'zod';
import { BACKENDS } from '../model/backend.js';
import { auditSchema as auditSettings, explainSchema as explainSettings, renderSchema as renderSettings, withoutDefaults } from '../settings.js';

export const QUEUE_NAME = 'saliencam-fleet';
export const SEGMENT_JOB = 'segment';
export const DRIVE_JOB = 'drive';
/** Set by `fleet worker` before it forks its processors: the folders jobs may touch (never taken from a job). */
export const ALLOW_ENV = 'SALIENCAM_FLEET_ALLOW';
/**
 * Segment jobs per drive at most (a week of drive in 60 s segments): what `add` plans and what `status` and the
 * worker accept from a job, so a job claiming millions cannot make them loop for minutes.
 */
export const MAX_SEGMENTS = 10_000;

// The explain, render and audit parts are the settings schema's fields (src/settings.ts), every one required:
// a job is complete, so its hash names everything it was run with.
const explain = withoutDefaults(explainSettings.shape);
const explainSchema = z.strictObject({
  model: z.string().min(1),
  backend: z.enum(BACKENDS),
  layer: z.string().optional(),
  batching: z.enum(['auto', 'batched', 'sequential']),
  method: explain.method,
  classes: explain.classes,
  minScore: explain.minScore,
  perDetection: explain.perDetection,
  methodParams: explain.methodParams,
});

const renderSchema = z.strictObject(withoutDefaults(renderSettings.shape));

/** The audit settings a job carries (the others take their defaults). */
export const fleetAuditSchema = z.strictObject(withoutDefaults(auditSettings.pick({ every: true, methods: true, steps: true, samples: true, randomMaps: true }).shape));

export const fleetSettingsSchema = z.strictObject({
  export: z.boolean(),
  audit: fleetAuditSchema.optional(),
  /** Seconds per segment job. */
  segment: z.number().positive(),
  /** Explain every n-th frame (export). */
  every: z.number().int().min(1),
  explain: explainSchema,
  render: renderSchema,
});
export type FleetSettings = z.infer<typeof fleetSettingsSchema>;

/** Frames of a drive one segment job covers. */
export const segmentSchema = z.strictObject({
  index: z.number().int().min(0).max(MAX_SEGMENTS - 1),
  /** First frame (0-based, of the whole drive) and how many; seconds are derived from these and fps. */
  firstFrame: z.number().int().min(0),
  /** undefined: to the end of the drive (a drive whose length could not be probed). */
  frames: z.number().int().min(1).optional(),
  fps: z.number().nonnegative(),
});
export type Segment = z.infer<typeof segmentSchema>;

const driveRef = {
  /** The drive as the adding machine named it; a worker opens it only inside its --allow folders. */
  drive: z.string().min(1),
  /** sha256 of the drive's bytes, hex: a worker checks it before trusting its outputs. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Output root; everything the job writes is under it. */
  out: z.string().min(1),
  /** Folder name under `out` for this drive + settings (checked to be one plain path component). */
  dir: z.string().regex(/^[A-Za-z0-9._-]+$/).refine((s) => s !== '.' && s !== '..'),
  settings: fleetSettingsSchema,
};

export const segmentJobSchema = z.strictObject({ ...driveRef, segment: segmentSchema });
export type SegmentJobData = z.infer<typeof segmentJobSchema>;

export const driveJobSchema = z.strictObject({
  ...driveRef,
  segments: z.number().int().min(1).max(MAX_SEGMENTS),
  /** Total frames when probed, for progress. */
  frames: z.number().int().min(0).optional(),
  fps: z.number().nonnegative().optional(),
  /** Why the adding machine could not probe the drive (it is still queued: the worker gives the reason). */
  probeError: z.string().optional(),
});
export type DriveJobData = z.infer<typeof driveJobSchema>;
