// Tiny DOM helpers. Every string child becomes a text node: there is no path
// from data to HTML parsing here.

type Child = Node | string | number | null | undefined | false;
type Props = {
  class?: string;
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[K]) => void }>;
  dataset?: Record<string, string | number>;
};

const FORBIDDEN_ATTR = /^(on|srcdoc$|formaction$)/i; // check-dom: allow (a guard, not a sink)

/** h creates an element; strings become text nodes, attributes go through setAttribute. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) el.className = props.class;
    if (props.attrs) {
      for (const [k, v] of Object.entries(props.attrs)) {
        if (FORBIDDEN_ATTR.test(k)) throw new Error(`dom: attribute ${k} not allowed`);
        if (v === undefined || v === false) continue;
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    if (props.dataset) for (const [k, v] of Object.entries(props.dataset)) el.dataset[k] = String(v);
    if (props.on) {
      for (const [k, fn] of Object.entries(props.on)) el.addEventListener(k, fn as EventListener);
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** clear removes every child of el. */
export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** replace swaps el's children for the given ones. */
export function replace(el: Node, ...children: Child[]): void {
  clear(el);
  append(el, ...children);
}

export function text(s: string): Text {
  return document.createTextNode(s);
}
