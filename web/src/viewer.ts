// Draws the frames on the canvas. Decoding a JPEG takes a few ms; when frames come faster than that, only
// the newest waiting one is drawn (the same latest-frame-wins rule as the server's).
export interface Drawn<M> {
  meta: M;
  receivedAt: number;
  drawnAt: number;
}

export class Viewer<M> {
  private busy = false;
  private waiting: { meta: M; image: Blob; receivedAt: number } | undefined;
  private readonly ctx: CanvasRenderingContext2D;
  framesDrawn = 0;
  private drawTimes: number[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onDrawn: (d: Drawn<M>) => void,
  ) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.ctx = ctx;
  }

  show(meta: M, image: Blob, receivedAt: number): void {
    this.waiting = { meta, image, receivedAt };
    if (!this.busy) void this.drain();
  }

  /** Frames drawn per second over the last few. */
  get fps(): number {
    const t = this.drawTimes;
    return t.length >= 2 ? ((t.length - 1) * 1000) / (t[t.length - 1]! - t[0]!) : 0;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.waiting) {
      const { meta, image, receivedAt } = this.waiting;
      this.waiting = undefined;
      try {
        const bitmap = await createImageBitmap(image);
        if (this.canvas.width !== bitmap.width || this.canvas.height !== bitmap.height) {
          this.canvas.width = bitmap.width;
          this.canvas.height = bitmap.height;
        }
        this.ctx.drawImage(bitmap, 0, 0);
        bitmap.close();
        this.framesDrawn++;
        const now = performance.now();
        this.drawTimes.push(now);
        if (this.drawTimes.length > 10) this.drawTimes.shift();
        this.onDrawn({ meta, receivedAt, drawnAt: now });
      } catch {
        // A frame that does not decode is skipped; the next one replaces it.
      }
    }
    this.busy = false;
  }
}
