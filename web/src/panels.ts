// The side panels that only display: class toggles, the current frame's detections, the live figures.
import type { FrameMessage, StateMessage } from '../../src/server/messages.js';
import { el, fixed } from './dom.js';

/**
 * Class toggles: every class seen so far plus the hidden ones, each with its colour and a checkbox. Rows are
 * kept and updated in place, so a click is never lost to a row being rebuilt as a frame arrives.
 */
export class ClassToggles {
  private hidden: string[] = [];
  private known: string[] = [];
  private current = new Map<string, number>();
  private readonly rows = new Map<string, { li: HTMLLIElement; box: HTMLInputElement; count: HTMLElement }>();
  private readonly empty = el('li', { className: 'empty', text: 'no classes detected yet' });

  constructor(
    private readonly list: HTMLElement,
    private readonly colorOf: (label: string) => string,
    private readonly onChange: (hidden: string[]) => void,
  ) {}

  setHidden(hidden: string[]): void {
    this.hidden = [...hidden];
    for (const l of hidden) if (!this.known.includes(l)) this.known.push(l);
    this.render();
  }

  /** Classes seen on the timeline (most frequent first) and counts in the current frame. */
  update(seen: string[], frame: FrameMessage | undefined): void {
    this.current = new Map();
    for (const d of frame?.record.detections ?? []) this.current.set(d.label, (this.current.get(d.label) ?? 0) + 1);
    const order = [...seen];
    for (const l of [...this.known, ...this.current.keys(), ...this.hidden]) if (!order.includes(l)) order.push(l);
    this.known = order;
    this.render();
  }

  private row(label: string): { li: HTMLLIElement; box: HTMLInputElement; count: HTMLElement } {
    let r = this.rows.get(label);
    if (r) return r;
    const box = el('input');
    box.type = 'checkbox';
    box.dataset['class'] = label;
    box.addEventListener('change', () => {
      const rest = this.hidden.filter((h) => h !== label);
      this.onChange(box.checked ? rest : [...rest, label]);
    });
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = this.colorOf(label);
    const count = el('span', { className: 'count' });
    const li = el('li', {}, el('label', { className: 'class-row' }, box, swatch, el('span', { className: 'name', text: label }), count));
    r = { li, box, count };
    this.rows.set(label, r);
    return r;
  }

  private render(): void {
    if (!this.known.length) {
      if (this.list.firstChild !== this.empty || this.list.childNodes.length !== 1) this.list.replaceChildren(this.empty);
      return;
    }
    const items = this.known.map((label) => {
      const r = this.row(label);
      const on = !this.hidden.includes(label);
      r.box.checked = on;
      r.li.classList.toggle('off', !on);
      const n = this.current.get(label);
      r.count.textContent = n ? String(n) : '';
      return r.li;
    });
    const same = items.length === this.list.children.length && items.every((li, i) => this.list.children[i] === li);
    if (!same) this.list.replaceChildren(...items);
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
