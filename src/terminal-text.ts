// Text that came from input (file, topic, class and drive names) reaches a terminal or a log line with its
// control characters escaped: a hostile name must not move the cursor, retitle the terminal (OSC), hide
// output (CSI) or inject lines. Bidi overrides are escaped too: they reorder what a reader sees.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character written as a visible `\uXXXX` escape. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `text` of several lines (help, a summary) with each line made safe and the line breaks kept. */
export function terminalSafeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}
