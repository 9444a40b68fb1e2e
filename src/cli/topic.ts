// `--topic <name>`: which camera topic of an .mcap recording to read (commands that take a source).
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { isRecordingInput, withTopic } from '../recording/input-name.js';
import type { Frame } from '../types.js';
import { openDecoder } from '../video/index.js';

export function addTopicOption(cmd: Command): Command {
  return cmd.option('--topic <name>', 'camera topic of an .mcap recording (default: its only image topic)');
}

/** The source string the decoders understand: `drive.mcap#/camera` when a topic was given. */
export function sourceWithTopic(source: string, topic: string | undefined): string {
  if (topic !== undefined && !isRecordingInput(source)) throw new UserError(`--topic ${topic}: only an .mcap recording has topics, not ${source}`);
  return withTopic(source, topic);
}

/** `explain drive.mcap`: the topic's first frame, with its log time. */
export async function firstRecordingFrame(input: string): Promise<Frame> {
  const decoder = await openDecoder(input);
  try {
    for await (const frame of decoder) return frame;
  } finally {
    await decoder.close();
  }
  const result = await decoder.done;
  throw new UserError(`${input}: no frame could be decoded${result.error ? ` (${result.error})` : ''}`);
}
