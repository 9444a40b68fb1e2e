// A drive job's result (its DriveSummary, merge.ts) as read back from Redis for `status` and `report`: data
// from the network like the job itself, so parsed before use. Links may only be the fixed file names the merge
// writes; every figure the report prints must be a number.
import { z } from 'zod';
import type { DriveSummary } from './merge.js';

const finite = z.number().finite();
/** JSON has no NaN: an undefined mean comes back as null. */
const spread = z.object({ mean: finite.nullable() }).passthrough();

const worstFrame = z.object({ frame: finite, time: finite.optional(), energyInBoxes: finite, labels: z.array(z.string()) });

export const driveSummarySchema = z.object({
  drive: z.string(),
  hash: z.string(),
  dir: z.string(),
  segments: finite,
  clip: z.literal('drive.mp4').optional(),
  sidecar: z.literal('drive.ndjson').optional(),
  auditReport: z.literal('audit.html').optional(),
  auditJson: z.literal('audit.json').optional(),
  metrics: z
    .object({
      frames: finite,
      framesWithDetections: finite,
      detections: finite,
      detectionsPerClass: z.record(z.string(), finite),
      energyInBoxes: finite.nullable(),
      energyInBoxesPerClass: z.record(z.string(), finite),
      worstFrames: z.array(worstFrame),
    })
    .optional(),
  audit: z
    .array(z.object({ method: z.string(), detections: finite, deletionAuc: spread, insertionAuc: spread, energyInBoxes: spread, pointingHitRate: spread }).passthrough())
    .optional(),
  auditDetections: finite.optional(),
  warnings: z.array(z.string()),
});

/** The first problem of a zod parse, as one line. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}`;
}

/** The summary if it parses, else the one-line reason it does not. */
export function parseDriveSummary(value: unknown): { summary: DriveSummary } | { error: string } {
  const parsed = driveSummarySchema.safeParse(value);
  return parsed.success ? { summary: parsed.data as DriveSummary } : { error: firstIssue(parsed.error) };
}
