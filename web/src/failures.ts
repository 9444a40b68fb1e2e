// Asking about the detector's failures on a paused frame: drag a box and pick a class → its why-not map and the
// class's best score there (`set why`); click a detection and pick another class → the contrastive map
// (`set perDetection + versus`). Both are settings, so every open page sees the same question and answer.
import type { FrameMessage, HelloMessage, StateMessage } from '../../src/server/messages.js';
import type { OutgoingCommand } from './connection.js';
import { el } from './dom.js';

export interface FailureUi {
  canvas: HTMLCanvasElement;
  drag: HTMLElement;
  whyClass: HTMLSelectElement;
  whyClear: HTMLButtonElement;
  whyResult: HTMLElement;
  versusClass: HTMLSelectElement;
  versusClear: HTMLButtonElement;
  versusResult: HTMLElement;
}

type Box = [number, number, number, number];

export class FailureQuestions {
  private hello: HelloMessage | undefined;
  private state: StateMessage | undefined;
  private frame: FrameMessage | undefined;
  /** The detection clicked (index into the shown frame's detections). */
  private picked: number | undefined;
  private start: { x: number; y: number } | undefined;

  constructor(
    private readonly ui: FailureUi,
    private readonly send: (cmd: OutgoingCommand) => void,
    private readonly toast: (text: string) => void,
  ) {
    ui.canvas.addEventListener('pointerdown', (e) => this.down(e));
    ui.canvas.addEventListener('pointermove', (e) => this.move(e));
    ui.canvas.addEventListener('pointerup', (e) => this.up(e));
    ui.whyClass.addEventListener('change', () => {
      // A new class for the region already asked about.
      const r = this.state?.settings.why[0];
      if (r) this.send({ type: 'set', why: [{ label: ui.whyClass.value, box: r.box }] });
    });
    ui.whyClear.addEventListener('click', () => this.send({ type: 'set', why: [] }));
    ui.versusClass.addEventListener('change', () => {
      if (ui.versusClass.value) this.send({ type: 'set', perDetection: true, versus: ui.versusClass.value });
    });
    ui.versusClear.addEventListener('click', () => this.send({ type: 'set', versus: null }));
  }

  configure(h: HelloMessage): void {
    this.hello = h;
    const names = [...h.classNames];
    const keep = this.ui.whyClass.value;
    this.ui.whyClass.replaceChildren(...names.map((n) => new Option(n, n)));
    this.ui.whyClass.value = names.includes(keep) ? keep : names.includes('car') ? 'car' : (names[0] ?? '');
    this.ui.versusClass.replaceChildren(new Option('—', ''), ...names.map((n) => new Option(n, n)));
  }

  applyState(s: StateMessage): void {
    this.state = s;
    const region = s.settings.why[0];
    if (region && document.activeElement !== this.ui.whyClass) this.ui.whyClass.value = region.label;
    if (document.activeElement !== this.ui.versusClass) this.ui.versusClass.value = s.settings.versus ?? '';
    this.render();
  }

  onFrame(f: FrameMessage): void {
    this.frame = f;
    this.render();
  }

  private render(): void {
    const r = this.frame?.record;
    const why = r?.why ?? [];
    this.ui.whyResult.replaceChildren(
      ...(why.length
        ? why.map((w) =>
            el(
              'li',
              { title: `box ${w.box.map((v) => Math.round(v)).join(', ')} · ${w.cells} score cells · map: ${w.method}` },
              el('span', { className: 'name', text: w.label }),
              el('span', { className: 'score', text: `best ${w.bestScore.toFixed(3)}` }),
              el('span', { className: 'energy', text: `${Math.round(w.energyInBox * 100)}% of its heat in the box, peak ${w.pointingHit ? 'inside' : 'outside'}` }),
            ),
          )
        : [el('li', { className: 'empty', text: 'pause, then drag a box on the frame' })]),
    );
    const versus = this.state?.settings.versus ?? null;
    const rows = (r?.saliency ?? []).filter((s) => s.versus !== undefined && (this.picked === undefined || s.detectionIndex === this.picked));
    this.ui.versusResult.replaceChildren(
      ...(versus && rows.length
        ? rows.map((s) => {
            const d = s.detectionIndex !== undefined ? r?.detections[s.detectionIndex] : undefined;
            return el(
              'li',
              {},
              el('span', { className: 'name', text: `${s.label} ${d ? d.score.toFixed(2) : ''} rather than ${s.versus}` }),
              el('span', { className: 'energy', text: `${Math.round(s.energyInBoxes * 100)}% in its box, peak ${s.pointingHit ? 'inside' : 'outside'}` }),
            );
          })
        : [el('li', { className: 'empty', text: this.picked === undefined ? 'click a detection, then pick another class' : `detection ${this.picked} picked: pick another class` })]),
    );
  }

  /** Where the frame sits in the canvas element (object-fit: contain) and its scale from source pixels. */
  private fit(): { left: number; top: number; scale: number; rect: DOMRect } {
    const rect = this.ui.canvas.getBoundingClientRect();
    const w = this.hello?.source.width ?? this.ui.canvas.width;
    const h = this.hello?.source.height ?? this.ui.canvas.height;
    const scale = Math.min(rect.width / w, rect.height / h);
    return { left: (rect.width - w * scale) / 2, top: (rect.height - h * scale) / 2, scale, rect };
  }

  /** Pointer → source pixels. */
  private at(e: PointerEvent): { x: number; y: number } {
    const f = this.fit();
    return { x: (e.clientX - f.rect.left - f.left) / f.scale, y: (e.clientY - f.rect.top - f.top) / f.scale };
  }

  private down(e: PointerEvent): void {
    if (this.state?.playing) return this.toast('pause first: questions are asked of the frame on screen');
    this.start = this.at(e);
    this.ui.canvas.setPointerCapture(e.pointerId);
  }

  private move(e: PointerEvent): void {
    if (!this.start) return;
    const p = this.at(e);
    const f = this.fit();
    Object.assign(this.ui.drag.style, {
      left: `${f.left + Math.min(p.x, this.start.x) * f.scale}px`,
      top: `${f.top + Math.min(p.y, this.start.y) * f.scale}px`,
      width: `${Math.abs(p.x - this.start.x) * f.scale}px`,
      height: `${Math.abs(p.y - this.start.y) * f.scale}px`,
    });
    this.ui.drag.hidden = false;
  }

  private up(e: PointerEvent): void {
    const s = this.start;
    this.start = undefined;
    this.ui.drag.hidden = true;
    if (!s) return;
    const p = this.at(e);
    const box: Box = [Math.min(s.x, p.x), Math.min(s.y, p.y), Math.max(s.x, p.x), Math.max(s.y, p.y)].map((v) => Math.max(0, Math.round(v))) as Box;
    if (box[2] - box[0] >= 4 && box[3] - box[1] >= 4) {
      this.send({ type: 'set', why: [{ label: this.ui.whyClass.value, box }] });
      return;
    }
    // A click: the smallest detection under it.
    const dets = this.frame?.record.detections ?? [];
    const hits = dets.map((d, i) => ({ d, i })).filter(({ d }) => p.x >= d.box[0] && p.x <= d.box[2] && p.y >= d.box[1] && p.y <= d.box[3]);
    hits.sort((a, b) => area(a.d.box) - area(b.d.box));
    this.picked = hits[0]?.i;
    this.ui.versusClass.focus();
    this.render();
  }
}

function area(b: readonly number[]): number {
  return (b[2]! - b[0]!) * (b[3]! - b[1]!);
}

