/**
 * The project's escaper for untrusted text on a terminal (spec/cli.md §Human reports): control characters (C0, DEL,
 * C1), line and paragraph separators, bidirectional overrides and other invisible format characters, unpaired
 * surrogates and backslash are escaped, runs of spaces are shown by count, and the length is bounded. So an untrusted
 * string can never start a line, move the cursor, recolour the screen, reorder what follows it, or wrap a fake
 * verdict onto its own line. Used by the CLI's reports (src/cli/text.ts) and every stderr writer (src/node/stderr.ts).
 */

/** Characters escaped by `safe`: Cc (C0, DEL, C1), Cf (bidi, zero-width…), Zl, Zp, Cs (lone surrogates), backslash. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;
/** Longest untrusted string shown whole; longer ones are cut with a count of what was left out. */
export const MAX_SHOWN = 200;

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

/** One untrusted string, made harmless for a terminal line. */
export function safe(v: unknown, max = MAX_SHOWN): string {
  const full = typeof v === 'string' ? v : String(v);
  // escape a bounded prefix only: the rest is counted, never shown
  const head = full.slice(0, max * 8);
  let out = head.replace(UNSAFE, (c) => {
    if (c === '\\') return '\\\\';
    const cp = c.codePointAt(0)!;
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return cp < 0x100 ? `\\x${hex(cp, 2)}` : `\\u{${hex(cp, 4)}}`;
  });
  // a run of spaces could push the rest of the line onto a fresh screen line: show it as a count
  out = out.replace(/ {4,}/g, (r) => ` \\x20×${r.length} `);
  const cps = [...out];
  if (cps.length <= max && head.length === full.length) return out;
  const left = full.length - head.length + Math.max(0, cps.length - max);
  return `${cps.slice(0, max).join('')}…(${left} more characters)`;
}

