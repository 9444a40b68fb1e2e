// The dashboard page: connects to the server, draws the frames, and turns the controls into commands.
// Every control reflects the server's `state` message, so several open pages stay in step.
import type { FrameMessage, HelloMessage, ServerMessage, Settings, StateMessage } from '../../src/server/messages.js';
import { colorOf as paletteColor } from './colors.js';
import { Connection, type OutgoingCommand } from './connection.js';
import { byId, seconds, throttle } from './dom.js';
import { ClassToggles, renderDetections, renderFigures } from './panels.js';
import { FailureQuestions } from './failures.js';
import { TimelineChart } from './timeline-chart.js';
import { Viewer, type Drawn } from './viewer.js';

interface DebugHook {
  framesDrawn: number;
  lastFrame: FrameMessage | undefined;
  /** The last 50 frames' metadata, oldest first. */
  frames: FrameMessage[];
  state: StateMessage | undefined;
  hello: HelloMessage | undefined;
  messages: ServerMessage[];
  chart?: () => { points: number; visible: [number, number] | null; classes: string[] };
}

declare global {
  interface Window {
    /** For tests and the curious: what the page has received so far. */
    __saliencam: DebugHook;
  }
}

const debug: DebugHook = { framesDrawn: 0, lastFrame: undefined, frames: [], state: undefined, hello: undefined, messages: [] };
window.__saliencam = debug;

const ui = {
  canvas: byId<HTMLCanvasElement>('view'),
  overlay: byId('overlay-msg'),
  conn: byId('conn'),
  source: byId('source'),
  play: byId<HTMLButtonElement>('play'),
  stepBack: byId<HTMLButtonElement>('step-back'),
  step: byId<HTMLButtonElement>('step'),
  seek: byId<HTMLInputElement>('seek'),
  clock: byId('clock'),
  loop: byId<HTMLInputElement>('loop'),
  loopLabel: byId('loop-label'),
  live: byId('live-badge'),
  method: byId<HTMLSelectElement>('method'),
  methodParams: byId('method-params'),
  colormap: byId<HTMLSelectElement>('colormap'),
  alpha: byId<HTMLInputElement>('alpha'),
  alphaValue: byId('alpha-value'),
  perClass: byId<HTMLInputElement>('maps-class'),
  perDetection: byId<HTMLInputElement>('maps-detection'),
  view: byId<HTMLSelectElement>('view-mode'),
  boxes: byId<HTMLInputElement>('boxes'),
  normaliseBox: byId<HTMLInputElement>('normalise-box'),
  classes: byId('classes'),
  detections: byId('detections'),
  detCount: byId('det-count'),
  figures: byId('figures'),
  chart: byId('chart'),
  readout: byId('chart-readout'),
  toast: byId('toast'),
};

let hello: HelloMessage | undefined;
let state: StateMessage | undefined;
let lastFrame: FrameMessage | undefined;
let seeking = false;

const colorOf = (label: string): string => paletteColor(label, hello?.classNames ?? []);
const conn = new Connection(Connection.urlFor(window.location), {
  message: onMessage,
  frame: (meta, image, at) => viewer.show(meta, image, at),
  status: (s, detail) => {
    ui.conn.dataset['state'] = s;
    ui.conn.textContent = s === 'open' ? 'connected' : s === 'connecting' ? 'connecting…' : `disconnected (${detail ?? ''}), retrying…`;
    if (s !== 'open') showOverlay(s === 'closed' ? 'disconnected — reconnecting…' : 'connecting…');
  },
});
const send = (cmd: OutgoingCommand): void => conn.send(cmd);
const viewer = new Viewer<FrameMessage>(ui.canvas, onDrawn);
const chart = new TimelineChart(ui.chart, ui.readout, colorOf, (time) => send({ type: 'seek', time }));
debug.chart = () => chart.inspect();
const failures = new FailureQuestions(
  {
    canvas: ui.canvas,
    drag: byId('drag-box'),
    whyClass: byId<HTMLSelectElement>('why-class'),
    whyClear: byId<HTMLButtonElement>('why-clear'),
    whyResult: byId('why-result'),
    versusClass: byId<HTMLSelectElement>('versus-class'),
    versusClear: byId<HTMLButtonElement>('versus-clear'),
    versusResult: byId('versus-result'),
  },
  send,
  (text) => toast(text, 'info'),
);
const toggles = new ClassToggles(ui.classes, colorOf, (hidden) => send({ type: 'set', hiddenClasses: hidden }));

function onMessage(msg: ServerMessage): void {
  debug.messages.push(msg);
  if (debug.messages.length > 200) debug.messages.shift();
  switch (msg.type) {
    case 'hello':
      hello = debug.hello = msg;
      configure(msg);
      failures.configure(msg);
      break;
    case 'state':
      state = debug.state = msg;
      applyState(msg);
      failures.applyState(msg);
      break;
    case 'timeline':
      chart.reset(msg.entries);
      window.setTimeout(() => toggles.update(chart.seenClasses(), lastFrame), 250);
      break;
    case 'error':
      toast(`${msg.command ? `${msg.command}: ` : ''}${msg.message}`, 'error');
      break;
    case 'notice':
      toast(msg.message, msg.level);
      break;
    default:
      break;
  }
}

function configure(h: HelloMessage): void {
  const s = h.source;
  ui.source.textContent = `${s.name} · ${s.width}×${s.height}${s.fps ? ` · ${+s.fps.toFixed(2)} fps` : ''}${s.frameCount ? ` · ${s.frameCount} frames` : ''} · ${h.model}`;
  document.title = `${s.name} · saliencam`;
  fillSelect(ui.method, h.methods);
  fillSelect(ui.colormap, h.colormaps);
  buildMethodParams(h);
  ui.live.hidden = !s.live;
  ui.seek.disabled = !s.seekable;
  ui.seek.hidden = !s.seekable;
  ui.stepBack.disabled = !s.seekable;
  ui.loopLabel.hidden = !s.loopable;
  if (s.seekable && s.duration) {
    ui.seek.max = String(s.duration);
    ui.seek.step = String(s.fps > 0 ? 1 / s.fps : 0.01);
  }
  chart.configure(s.seekable ? s.duration : undefined, s.seekable);
  renderFigures(ui.figures, { fps: 0, displayFps: 0, latencyMs: 0, backend: h.backend, dropped: 0, decoderDropped: 0, clients: 0 });
}

function fillSelect(select: HTMLSelectElement, values: readonly string[]): void {
  const current = select.value;
  select.replaceChildren(...values.map((v) => new Option(v, v)));
  if (values.includes(current)) select.value = current;
}

function applyState(s: StateMessage): void {
  ui.play.title = s.playing ? 'Pause (space)' : s.ended ? 'Play again from the start (space)' : 'Play (space)';
  ui.play.classList.toggle('playing', s.playing);
  ui.loop.checked = s.loop;
  const set: Settings = s.settings;
  ui.method.value = set.method;
  // A slow method (PolyCAM) explains a paused frame only: offered while paused.
  for (const o of ui.method.options) o.disabled = s.playing && !(hello?.realtimeMethods ?? []).includes(o.value as Settings['method']);
  showMethodParams(set);
  ui.colormap.value = set.colormap;
  if (document.activeElement !== ui.alpha) ui.alpha.value = String(set.alpha);
  ui.alphaValue.textContent = `${Math.round(set.alpha * 100)}%`;
  ui.perClass.checked = !set.perDetection;
  ui.perDetection.checked = set.perDetection;
  ui.view.value = set.view;
  ui.boxes.checked = set.boxes;
  ui.normaliseBox.checked = set.normalise === 'box';
  toggles.setHidden(set.hiddenClasses);
  if (!lastFrame && !s.playing && !s.position) showOverlay('paused — press play');
  renderLiveFigures();
}

/** Each method's own parameters (hello lists them per method), one field each; a change is a `set` for that method. */
function buildMethodParams(h: HelloMessage): void {
  ui.methodParams.replaceChildren(
    ...Object.entries(h.methodParams).map(([method, params]) => {
      const group = document.createElement('div');
      group.dataset['method'] = method;
      group.hidden = true;
      for (const [name, info] of Object.entries(params)) {
        const field = document.createElement('div');
        field.className = 'field';
        const label = document.createElement('label');
        label.textContent = `${method} ${name}`;
        if (info.description) label.title = info.description;
        const input = info.choices ? document.createElement('select') : document.createElement('input');
        input.id = label.htmlFor = `param-${method}-${name}`;
        input.dataset['param'] = name;
        if (input instanceof HTMLSelectElement) input.replaceChildren(...(info.choices ?? []).map((c) => new Option(c, c)));
        else Object.assign(input, { type: 'number', ...(info.min !== undefined ? { min: String(info.min) } : {}), ...(info.max !== undefined ? { max: String(info.max) } : {}) });
        input.value = String(info.default);
        input.addEventListener('change', () => {
          const value = input instanceof HTMLInputElement ? Number(input.value) : input.value;
          // The method's other parameters as they are now: a method's parameters are set together.
          const now = (state?.settings.methodParams as Record<string, object> | undefined)?.[method] ?? {};
          send({ type: 'set', methodParams: { [method]: { ...now, [name]: value } } as Settings['methodParams'] });
        });
        field.append(label, input);
        group.append(field);
      }
      return group;
    }),
  );
}

/** Shows the current method's parameters (the others' are kept, hidden) with their values now. */
function showMethodParams(set: Settings): void {
  for (const group of ui.methodParams.querySelectorAll<HTMLElement>('[data-method]')) {
    const method = group.dataset['method'] ?? '';
    group.hidden = method !== set.method;
    const values = (set.methodParams as Record<string, Record<string, string | number | boolean>>)[method] ?? {};
    for (const input of group.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-param]')) {
      const v = values[input.dataset['param'] ?? ''];
      if (v !== undefined && document.activeElement !== input) input.value = String(v);
    }
  }
}

function onDrawn(d: Drawn<FrameMessage>): void {
  const f = d.meta;
  lastFrame = debug.lastFrame = f;
  debug.frames.push(f);
  if (debug.frames.length > 50) debug.frames.shift();
  debug.framesDrawn = viewer.framesDrawn;
  ui.canvas.dataset['frames'] = String(viewer.framesDrawn);
  ui.overlay.hidden = true;
  if (!seeking) ui.seek.value = String(f.time);
  const total = hello?.source.duration;
  ui.clock.textContent = `${seconds(f.time)}${total ? ` / ${seconds(total)}` : ''} · frame ${f.frame}`;
  renderDetections(ui.detections, ui.detCount, f, state?.settings.hiddenClasses ?? [], colorOf);
  failures.onFrame(f);
  chart.add(f.timeline);
  chart.setPosition(f.time);
  toggles.update(chart.seenClasses(), f);
  latency = f.stats.latencyMs + (d.drawnAt - d.receivedAt) + (conn.rttMs ?? 0) / 2;
  renderLiveFigures();
}

let latency = 0;
function renderLiveFigures(): void {
  const st = lastFrame?.stats;
  renderFigures(ui.figures, {
    fps: st?.fps ?? 0,
    displayFps: viewer.fps,
    latencyMs: latency,
    backend: st?.backend ?? hello?.backend ?? '–',
    dropped: st?.dropped ?? 0,
    decoderDropped: st?.decoderDropped ?? 0,
    clients: state?.clients ?? 0,
  });
}

function showOverlay(text: string): void {
  ui.overlay.textContent = text;
  ui.overlay.hidden = false;
}

let toastTimer: number | undefined;
function toast(text: string, level: 'info' | 'warning' | 'error'): void {
  ui.toast.textContent = text;
  ui.toast.dataset['level'] = level;
  ui.toast.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (ui.toast.hidden = true), 5000);
}

// ---- controls → commands ---------------------------------------------------------------------------------

const playPause = (): void => send({ type: state?.playing ? 'pause' : 'play' });
ui.play.addEventListener('click', playPause);
ui.step.addEventListener('click', () => send({ type: 'step', direction: 1 }));
ui.stepBack.addEventListener('click', () => send({ type: 'step', direction: -1 }));
ui.loop.addEventListener('change', () => send({ type: 'loop', on: ui.loop.checked }));
ui.seek.addEventListener('input', () => {
  seeking = true;
  ui.clock.textContent = `→ ${seconds(Number(ui.seek.value))}`;
});
ui.seek.addEventListener('change', () => {
  seeking = false;
  send({ type: 'seek', time: Number(ui.seek.value) });
});
ui.method.addEventListener('change', () => send({ type: 'set', method: ui.method.value as Settings['method'] }));
ui.colormap.addEventListener('change', () => send({ type: 'set', colormap: ui.colormap.value as Settings['colormap'] }));
const sendAlpha = throttle((a: number) => send({ type: 'set', alpha: a }), 250);
ui.alpha.addEventListener('input', () => {
  ui.alphaValue.textContent = `${Math.round(Number(ui.alpha.value) * 100)}%`;
  sendAlpha(Number(ui.alpha.value));
});
ui.perClass.addEventListener('change', () => send({ type: 'set', perDetection: false }));
ui.perDetection.addEventListener('change', () => send({ type: 'set', perDetection: true }));
ui.view.addEventListener('change', () => send({ type: 'set', view: ui.view.value as Settings['view'] }));
ui.boxes.addEventListener('change', () => send({ type: 'set', boxes: ui.boxes.checked }));
ui.normaliseBox.addEventListener('change', () => send({ type: 'set', normalise: ui.normaliseBox.checked ? 'box' : 'global' }));

document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement | null;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
  if (e.key === ' ') {
    e.preventDefault();
    playPause();
  } else if (e.key === 'ArrowRight') send({ type: 'step', direction: 1 });
  else if (e.key === 'ArrowLeft' && hello?.source.seekable) send({ type: 'step', direction: -1 });
});

window.setInterval(renderLiveFigures, 1000);
conn.connect();
