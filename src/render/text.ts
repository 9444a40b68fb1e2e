// Text helpers for the SVG overlays. librsvg cannot measure text for us before rendering, so plate
// widths come from an estimate of DejaVu Sans advances (the font this renderer asks for first).

/** Font stack for every label; DejaVu Sans ships with most Linux systems and is what fontconfig finds here. */
export const FONT_FAMILY = 'DejaVu Sans, Arial, sans-serif';

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Approximate rendered width in pixels of `text` at `fontSize` (errs wide, so text stays on its plate). */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) em += advance(ch);
  return Math.ceil(em * fontSize * 1.04);
}

// Advance widths in em, grouped; DejaVu Sans is a fairly wide face.
function advance(ch: string): number {
  if (ch === ' ' || ".,:;'|!ijlI".includes(ch)) return 0.32;
  if (ch === 'f' || ch === 't' || ch === 'r') return 0.42;
  if (ch === 'm' || ch === 'w') return 0.9;
  if (ch === 'M' || ch === 'W') return 1.0;
  if (ch >= '0' && ch <= '9') return 0.64;
  if (ch >= 'A' && ch <= 'Z') return 0.72;
  if (ch >= 'a' && ch <= 'z') return 0.62;
  return 0.8; // symbols, non-Latin: be generous
}
