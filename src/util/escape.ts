/**
 * The one escaper for untrusted strings (spec/cli.md §Human reports), shared by the CLI (terminal lines) and the
 * verifier page (DOM text): control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides
 * and other invisible format characters, unpaired surrogates and backslash are escaped, runs of spaces are shown by
 * count, and the length is bounded. So an untrusted string can never start a line, move the cursor, recolour the
 * screen, reorder what follows it, or wrap a fake verdict onto its own line.
 */

/** Characters escaped by `safe`: Cc (C0, DEL, C1), Cf (bidi, zero-width…), Zl, Zp, Cs (lone surrogates), backslash. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;
/** Longest untrusted string shown whole; longer ones are cut with a count of what was left out. */
export const MAX_SHOWN = 200;

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

/** The escape of one unsafe character. */
function escapeOne(c: string): string {
  if (c === '\\') return '\\\\';
  const cp = c.codePointAt(0)!;
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return cp < 0x100 ? `\\x${hex(cp, 2)}` : `\\u{${hex(cp, 4)}}`;
}

/** Only the character escapes of `safe` (no space counts, no cut), for lines a program reads back (unescapeChars). */
export function escapeChars(s: string): string {
  return s.replace(UNSAFE, escapeOne);
}

/** True when `escapeChars` would change `s`. */
export function hasUnsafeChars(s: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(s);
}

/** Reverses escapeChars; any other backslash pair stands for its second character (coreutils' `\\` and `\n`). */
export function unescapeChars(s: string): string {
  return s.replace(/\\(?:x([0-9a-f]{2})|u\{([0-9a-f]{4,6})\}|([\s\S]))/g, (_m, x?: string, u?: string, c?: string) =>
    x !== undefined ? String.fromCharCode(parseInt(x, 16)) : u !== undefined ? String.fromCodePoint(Math.min(parseInt(u, 16), 0x10ffff)) : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c!,
  );
}

/** One untrusted string, made harmless for a terminal line. */
export function safe(v: unknown, max = MAX_SHOWN): string {
  const full = typeof v === 'string' ? v : String(v);
  // escape a bounded prefix only: the rest is counted, never shown
  const head = full.slice(0, max * 8);
  let out = head.replace(UNSAFE, escapeOne);
  // a run of spaces could push the rest of the line onto a fresh screen line: show it as a count
  out = out.replace(/ {4,}/g, (r) => ` \\x20×${r.length} `);
  const cps = [...out];
  if (cps.length <= max && head.length === full.length) return out;
  const left = full.length - head.length + Math.max(0, cps.length - max);
  return `${cps.slice(0, max).join('')}…(${left} more characters)`;
}

/** Cuts a raw string to `max` code points (escape it with `safe` before printing). */
export function cut(s: string, max: number): string {
  const cps = [...s.slice(0, max * 2 + 1)];
  return cps.length > max ? `${cps.slice(0, max).join('')}…` : s;
}

/**
 * A bounded, comma-separated list of untrusted names: at most `max` shown, then "and N more".
 * Not escaped: the caller escapes the line it is part of.
 */
export function nameList(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => cut(n, 120));
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

/** True when `safe` would change `v` other than by cutting it (it holds characters shown as escapes). */
export function hasUnsafe(v: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(v) || / {4,}/.test(v);
}
