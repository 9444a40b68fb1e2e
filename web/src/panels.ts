// The side panels that only display: class toggles, the current frame's detections, the live figures.
import type { FrameMessage, StateMessage } from '../../src/server/messages.js';
import { el, fixed } from './dom.js';

/** Class toggles: every class seen so far plus the hidden ones, each with its colour and a checkbox. */
export class ClassToggles {
  private hidden: string[] = [];
  private known: string[] = [];
  private current = new Map<string, number>();

  constructor(
    private readonly list: HTMLElement,
    private readonly colorOf: (label: string) => string,
    private readonly onChange: (hidden: string[]) => void,
  ) {}

  setHidden(hidden: string[]): void {
    this.hidden = [...hidden];
    this.render();
  }

  /** Classes seen on the timeline (most frequent first) and counts in the current frame. */
  update(seen: string[], frame: FrameMessage | undefined): void {
    this.current = new Map();
    for (const d of frame?.record.detections ?? []) this.current.set(d.label, (this.current.get(d.label) ?? 0) + 1);
    const order = [...seen];
    for (const l of [...this.current.keys(), ...this.hidden]) if (!order.includes(l)) order.push(l);
    this.known = order;
    this.render();
  }

  private render(): void {
    if (!this.known.length) {
      this.list.replaceChildren(el('li', { className: 'empty', text: 'no classes detected yet' }));
      return;
    }
    this.list.replaceChildren(
      ...this.known.map((label) => {
        const box = el('input');
        box.type = 'checkbox';
        box.checked = !this.hidden.includes(label);
        box.dataset['class'] = label;
        box.addEventListener('change', () => {
          const hidden = box.checked ? this.hidden.filter((h) => h !== label) : [...this.hidden, label];
          this.onChange(hidden);
        });
        const swatch = el('span', { className: 'swatch' });
        swatch.style.background = this.colorOf(label);
        const n = this.current.get(label);
        const row = el('label', { className: 'class-row' }, box, swatch, el('span', { className: 'name', text: label }), el('span', { className: 'count', text: n ? String(n) : '' }));
        const li = el('li', {}, row);
        li.classList.toggle('off', !box.checked);
        return li;
      }),
    );
  }
}

export function renderDetections(list: HTMLElement, countEl: HTMLElement, frame: FrameMessage, hidden: string[], colorOf: (label: string) => string): void {
  const r = frame.record;
  countEl.textContent = r.detections.length ? String(r.detections.length) : '';
  if (!r.detections.length) {
    const note = hidden.length ? ` (hidden: ${hidden.join(', ')})` : '';
    list.replaceChildren(el('li', { className: 'empty', text: `nothing above the score threshold${note}` }));
    return;
  }
  // Energy in boxes per class (or per detection in per-detection mode), shown next to each detection.
  const byClass = new Map<string, number>();
  const byDetection = new Map<number, number>();
  for (const s of r.saliency) {
    if (s.detectionIndex !== undefined) byDetection.set(s.detectionIndex, s.energyInBoxes);
    else byClass.set(s.label, s.energyInBoxes);
  }
  const rows = r.detections
    .map((d, i) => ({ d, i }))
    .sort((a, b) => b.d.score - a.d.score)
    .map(({ d, i }) => {
      const swatch = el('span', { className: 'swatch' });
      swatch.style.background = colorOf(d.label);
      const energy = byDetection.get(i) ?? byClass.get(d.label);
      const bar = el('span', { className: 'bar' });
      bar.style.setProperty('--v', String(d.score));
      return el(
        'li',
        { title: `box ${d.box.map((v) => Math.round(v)).join(', ')}` },
        swatch,
        el('span', { className: 'name', text: d.label }),
        bar,
        el('span', { className: 'score', text: d.score.toFixed(2) }),
        el('span', { className: 'energy', text: energy !== undefined ? `${Math.round(energy * 100)}%` : '' , title: 'share of the saliency inside the boxes' }),
      );
    });
  list.replaceChildren(...rows);
}

export interface Figures {
  fps: number;
  displayFps: number;
  latencyMs: number;
  backend: string;
  dropped: number;
  decoderDropped: number;
  clients: number;
}

export function renderFigures(dl: HTMLElement, f: Figures): void {
  const set = (key: string, value: string): void => {
    const dd = dl.querySelector<HTMLElement>(`[data-fig="${key}"]`);
    if (dd) dd.textContent = value;
  };
  set('fps', f.fps > 0 ? fixed(f.fps, 2) : '–');
  set('display-fps', f.displayFps > 0 ? fixed(f.displayFps, 2) : '–');
  set('latency', f.latencyMs > 0 ? String(Math.round(f.latencyMs)) : '–');
  set('backend', f.backend);
  set('dropped', f.decoderDropped ? `${f.dropped} · ${f.decoderDropped} at source` : String(f.dropped));
  set('clients', String(f.clients));
}

export function clientsOf(state: StateMessage | undefined): number {
  return state?.clients ?? 0;
}
