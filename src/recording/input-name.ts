// How an MCAP recording is named on the command line: `drive.mcap`, or `drive.mcap#/camera/front` once a
// topic has been picked (--topic). Keeping the topic in the source string lets every command, the server
// and the audit open the same camera stream through the one openDecoder/probeSource entry point.

export interface RecordingName {
  path: string;
  topic?: string;
}

const MCAP_RE = /^(.*\.mcap)(?:#(.+))?$/is;

/** True for `x.mcap` and `x.mcap#topic`. */
export function isRecordingInput(input: string): boolean {
  return MCAP_RE.test(input);
}

export function parseRecordingInput(input: string): RecordingName {
  const m = MCAP_RE.exec(input);
  if (!m) return { path: input };
  return m[2] ? { path: m[1]!, topic: m[2] } : { path: m[1]! };
}

/** The source string for `path` with `topic` picked (no topic, or a non-MCAP path: the path as it is). */
export function withTopic(path: string, topic: string | undefined): string {
  if (!topic || !isRecordingInput(path)) return path;
  return `${parseRecordingInput(path).path}#${topic}`;
}
