// Class colours: the very palette the server draws boxes with, so a toggle's swatch matches the frame.
import { classColor } from '../../src/render/class-colors.js';

const fallbackIds = new Map<string, number>();

/** Colour of a class by label; `classNames` (from hello) gives the model's ids. */
export function colorOf(label: string, classNames: readonly string[]): string {
  let id = classNames.indexOf(label);
  if (id < 0) id = fallbackIds.get(label) ?? -1;
  return classColor(id, label).hex;
}
