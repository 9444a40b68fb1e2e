// HTML escaping for everything the report takes from data (labels, file names, settings).
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A JPEG as a data URI (report images are inline, so the file stands alone). */
export function jpegDataUri(jpeg: Uint8Array): string {
  // JPEG files start with the SOI marker FF D8 FF; anything else would show as a broken image.
  if (jpeg.length < 3 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff) {
    throw new Error('audit report: gallery thumbnail is not a JPEG');
  }
  return `data:image/jpeg;base64,${Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength).toString('base64')}`;
}
