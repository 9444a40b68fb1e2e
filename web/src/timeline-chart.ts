// The drive's timeline: per class, detections per frame (top) and the share of its saliency inside its
// boxes, `energyInBoxes` (bottom), over time. Both charts share the cursor; a click seeks there.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TimelineEntry } from '../../src/server/messages.js';

const AXIS = { stroke: '#8b96a8', grid: { stroke: 'rgba(255,255,255,0.06)', width: 1 }, ticks: { stroke: 'rgba(255,255,255,0.1)', width: 1 }, font: '11px system-ui, sans-serif' };

export class TimelineChart {
  private readonly entries = new Map<number, TimelineEntry>();
  private classes: string[] = [];
  private plots: uPlot[] = [];
  private position: number | undefined;
  private duration: number | undefined;
  private seekable = false;
  private scheduled = false;
  /** Entries in time order as last drawn (the cursor read-out indexes into it). */
  private drawn: TimelineEntry[] = [];

  constructor(
    private readonly host: HTMLElement,
    private readonly readout: HTMLElement,
    private readonly colorOf: (label: string) => string,
    private readonly onSeek: (time: number) => void,
  ) {
    new ResizeObserver(() => this.resize()).observe(host);
  }

  configure(duration: number | undefined, seekable: boolean): void {
    this.duration = duration;
    this.seekable = seekable;
    this.host.classList.toggle('seekable', seekable);
    this.rebuild();
  }

  reset(entries: TimelineEntry[]): void {
    this.entries.clear();
    for (const e of entries) this.entries.set(e.frame, e);
    this.schedule();
  }

  add(entry: TimelineEntry): void {
    this.entries.set(entry.frame, entry);
    this.schedule();
  }

  setPosition(time: number | undefined): void {
    this.position = time;
    for (const p of this.plots) p.redraw(false, false);
  }

  /** What the detections chart holds and draws (for tests): points, the index range in view, the classes. */
  inspect(): { points: number; visible: [number, number] | null; classes: string[] } {
    const p = this.plots[0];
    const idxs = p?.series[1]?.idxs;
    return { points: p?.data[0]?.length ?? 0, visible: idxs ? [idxs[0], idxs[1]] : null, classes: [...this.classes] };
  }

  /** Classes seen anywhere on the timeline, most frequent first. */
  seenClasses(): string[] {
    return this.classes;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Redrawing a long timeline on every frame is wasted work: a few times a second is plenty.
    window.setTimeout(() => {
      this.scheduled = false;
      this.update();
    }, 200);
  }

  private sorted(): TimelineEntry[] {
    return [...this.entries.values()].sort((a, b) => a.time - b.time || a.frame - b.frame);
  }

  private classList(entries: TimelineEntry[]): string[] {
    const totals = new Map<string, number>();
    for (const e of entries) for (const [label, c] of Object.entries(e.classes)) totals.set(label, (totals.get(label) ?? 0) + c.count);
    return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([l]) => l);
  }

  private update(): void {
    const entries = this.sorted();
    this.drawn = entries;
    this.host.classList.toggle('empty', entries.length === 0);
    const classes = this.classList(entries);
    if (classes.join('\n') !== this.classes.join('\n')) {
      this.classes = classes;
      this.rebuild();
      return;
    }
    const [counts, energy] = this.data(entries);
    // Scales are reset on every update: uPlot also recomputes which points are in view then (the x range
    // itself stays fixed to the drive's duration through the scale's `range`).
    this.plots[0]?.setData(counts);
    this.plots[1]?.setData(energy);
  }

  private data(entries: TimelineEntry[]): [uPlot.AlignedData, uPlot.AlignedData] {
    const xs = entries.map((e) => e.time);
    const counts = this.classes.map((c) => entries.map((e) => e.classes[c]?.count ?? 0));
    const energy = this.classes.map((c) => entries.map((e) => e.classes[c]?.energy ?? null));
    return [
      [xs, ...counts],
      [xs, ...energy],
    ];
  }

  private rebuild(): void {
    for (const p of this.plots) p.destroy();
    this.plots = [];
    this.host.replaceChildren();
    this.host.classList.toggle('empty', this.entries.size === 0);
    const entries = this.sorted();
    this.drawn = entries;
    this.classes = this.classList(entries);
    const [counts, energy] = this.data(entries);
    const width = Math.max(200, this.host.clientWidth);
    const xRange: uPlot.Scale['range'] = this.duration ? [0, this.duration] : undefined;
    const make = (title: string, data: uPlot.AlignedData, yRange: uPlot.Scale['range'], stepped: boolean, fmt: (v: number) => string): uPlot => {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset['title'] = title;
      this.host.append(box);
      const opts: uPlot.Options = {
        width,
        height: 96,
        legend: { show: false },
        cursor: { sync: { key: 'timeline' }, drag: { x: false, y: false }, points: { size: 5 } },
        scales: { x: { time: false, ...(xRange ? { range: xRange } : {}) }, y: { range: yRange } },
        axes: [
          { ...AXIS, size: 24, values: (_u, vals) => vals.map((v) => `${+v.toFixed(2)}s`) },
          { ...AXIS, size: 44, values: (_u, vals) => vals.map(fmt) },
        ],
        series: [
          {},
          ...this.classes.map((label) => ({
            label,
            stroke: this.colorOf(label),
            width: 1.5,
            points: { show: false },
            spanGaps: false,
            ...(stepped && uPlot.paths.stepped ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
          })),
        ],
        hooks: {
          draw: [(u) => this.drawPosition(u)],
          setCursor: [(u) => this.showReadout(u)],
        },
      };
      const plot = new uPlot(opts, data, box);
      plot.over.addEventListener('click', () => {
        const left = plot.cursor.left;
        if (!this.seekable || left === undefined || left < 0) return;
        this.onSeek(Math.max(0, plot.posToVal(left, 'x')));
      });
      plot.over.addEventListener('mouseleave', () => (this.readout.textContent = ''));
      return plot;
    };
    this.plots.push(make('detections', counts, (_u, _min, max) => [0, Math.max(2, Math.ceil(max))], true, (v) => String(v)));
    // Shares are often small: scale to the data (at least 0..20%), never beyond 100%.
    const shareRange: uPlot.Scale['range'] = (_u, _min, max) => [0, Math.min(1, Math.max(0.2, Math.ceil(((max ?? 0) + 0.05) * 10) / 10))];
    this.plots.push(make('energy in boxes', energy, shareRange, false, (v) => `${Math.round(v * 100)}%`));
  }

  private drawPosition(u: uPlot): void {
    if (this.position === undefined) return;
    const x = Math.round(u.valToPos(this.position, 'x', true));
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = 'rgba(255,255,255,0.75)';
    ctx.lineWidth = Math.max(1, window.devicePixelRatio);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  }

  private showReadout(u: uPlot): void {
    const i = u.cursor.idx;
    if (i === undefined || i === null) return;
    const entry = this.drawn[i];
    if (!entry) return;
    const parts = Object.entries(entry.classes).map(([label, c]) => `${label} ${c.count}${c.energy !== null ? ` · ${Math.round(c.energy * 100)}%` : ''}`);
    this.readout.textContent = `${entry.time.toFixed(2)} s (frame ${entry.frame}): ${parts.join(', ') || 'nothing detected'}${this.seekable ? ' · click to seek' : ''}`;
  }

  private resize(): void {
    const width = Math.max(200, this.host.clientWidth);
    for (const p of this.plots) p.setSize({ width, height: 96 });
  }
}
