/**
 * DOM building for untrusted values: elements are created with createElement and filled with textContent only
 * (never innerHTML). Values pass through the one escaper (src/util/escape.ts): control characters, bidi overrides
 * and invisible characters become visible escapes and are marked; long values are cut, with the whole (escaped)
 * value one click away.
 */
import { hasUnsafe, safe } from '../util/escape.js';

/** Longest value shown before it is cut. */
export const SHOWN = 160;
/** Longest value the "show all" button reveals (escaped). */
export const FULL = 1_000_000;

/**
 * An escape the escaper wrote (`\xNN`, `\u{…}`, `\n`, `\r`, `\t`) in already-escaped text: preceded by an even
 * number of backslashes, since the escaper doubles every backslash of the input.
 */
const ESCAPE_MADE = /(?:^|[^\\])(?:\\\\)*\\(?:x[0-9a-f]{2}|u\{[0-9a-f]+\}|[nrt])/;

/** A new element with a class and plain text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * An untrusted value as a span: escaped, cut at `max` code points with a "show all" button, and marked when the
 * escaper changed it. `raw` false: `v` is already escaped text (e.g. an ID card row) and is only cut.
 */
export function untrusted(v: unknown, max = SHOWN, raw = true): HTMLSpanElement {
  const full = typeof v === 'string' ? v : String(v);
  const span = el('span', 'val');
  const whole = raw ? safe(full, FULL) : full;
  const cps = [...whole.slice(0, max * 2 + 2)];
  const cut = cps.length > max;
  span.append(el('span', 'txt', cut ? cps.slice(0, max).join('') + '…' : whole));
  if (raw ? hasUnsafe(full) : ESCAPE_MADE.test(full)) {
    span.classList.add('escaped');
    span.append(el('span', 'badge', 'escaped'));
  }
  if (cut) {
    const b = el('button', 'more', `show all (${[...whole].length} characters)`);
    b.type = 'button';
    b.addEventListener('click', () => {
      span.querySelector('.txt')!.textContent = whole;
      b.remove();
    });
    span.append(b);
  }
  return span;
}

/** Removes every child of `e`. */
export function clear(e: Element): void {
  while (e.firstChild) e.firstChild.remove();
}
