// Errors a user can act on. The CLI prints `saliencam: <message>` and exits with `exitCode`;
// anything else is a bug and is reported the same way but with exit code 1.

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  internal: 1,
  /** Bad input: missing/corrupt file, bad flag, bad model, unwritable output. */
  usage: 2,
  /** Partial result: the input ended early or the decoder failed mid-way; what decoded was written. */
  partial: 3,
  /**
   * The output could not be completed for a reason outside the input and the flags (the encoder was killed or
   * crashed mid-run); nothing was left at the output path. Running again may work.
   */
  outputFailed: 4,
  /** Interrupted by SIGINT/SIGTERM; a valid output of the frames so far was written. */
  interrupted: 130,
} as const;

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** One line, no stack: what the CLI shows for any thrown value. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.trim() || 'unknown error';
}
