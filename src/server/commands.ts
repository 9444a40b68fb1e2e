// What clients may send: one strict zod schema per command. The `Command` type is inferred from them, so the
// protocol is spelled once (messages.ts re-exports the type for the web app).
import { z } from 'zod';
import { changesOf, dashboardSchema, methodParamChangesSchema } from '../settings.js';

export const PROTOCOL_VERSION = 1;

const v = z.literal(PROTOCOL_VERSION);
export const COMMAND_SCHEMAS = {
  play: z.strictObject({ v, type: z.literal('play') }),
  pause: z.strictObject({ v, type: z.literal('pause') }),
  /** One frame forward (1) or back (-1, recorded sources only). Pauses playback. */
  step: z.strictObject({ v, type: z.literal('step'), direction: z.union([z.literal(1), z.literal(-1)]).optional() }),
  /** Recorded sources only; `time` in seconds or `frame` index. */
  seek: z
    .strictObject({
      v,
      type: z.literal('seek'),
      time: z.number().min(0).max(1e7).optional(),
      frame: z.number().int().min(0).max(1e9).optional(),
    })
    .refine((c) => (c.time === undefined) !== (c.frame === undefined), { message: 'give exactly one of time or frame' }),
  loop: z.strictObject({ v, type: z.literal('loop'), on: z.boolean() }),
  set: z
    // The dashboard settings' own schema (src/settings.ts), every field optional; class names are checked
    // against the model's list by the player. Method parameters change per method: one left out keeps its own.
    .strictObject({ v, type: z.literal('set'), ...changesOf(dashboardSchema.shape), methodParams: methodParamChangesSchema.optional() })
    .refine((c) => Object.keys(c).length > 2, { message: 'set needs at least one setting' }),
  ping: z.strictObject({ v, type: z.literal('ping'), id: z.union([z.number(), z.string().max(64)]).optional() }),
  /** Server figures (event-loop delay), for load checks; `reset` starts a new measuring window. */
  stats: z.strictObject({ v, type: z.literal('stats'), reset: z.boolean().optional() }),
} as const;

export const COMMAND_TYPES = Object.keys(COMMAND_SCHEMAS) as (keyof typeof COMMAND_SCHEMAS)[];

/** A valid client command (what parseCommand returns). */
export type Command = z.infer<(typeof COMMAND_SCHEMAS)[keyof typeof COMMAND_SCHEMAS]>;
