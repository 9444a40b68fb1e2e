// Tiny DOM helpers: look-ups that fail loudly, element building, number formatting.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; title?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  node.append(...children);
  return node;
}

export function seconds(t: number): string {
  return `${t.toFixed(2)} s`;
}

export function fixed(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** Calls `fn` at most every `ms`, always with the latest arguments (trailing call guaranteed). */
export function throttle<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let last = 0;
  let timer: number | undefined;
  let pending: A | undefined;
  return (...args: A) => {
    pending = args;
    const wait = last + ms - performance.now();
    if (wait <= 0) {
      last = performance.now();
      fn(...args);
      pending = undefined;
    } else if (timer === undefined) {
      timer = window.setTimeout(() => {
        timer = undefined;
        last = performance.now();
        if (pending) fn(...pending);
        pending = undefined;
      }, wait);
    }
  };
}
