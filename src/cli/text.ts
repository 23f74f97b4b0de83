/**
 * Text that reaches a terminal (spec/cli.md §Human reports). Every string that comes from a document, a certificate,
 * a server or a file name goes through `safe` first: control characters (C0, DEL, C1), line and paragraph
 * separators, bidirectional overrides and other invisible format characters, unpaired surrogates and backslash are
 * escaped, runs of spaces are shown by count, and the length is bounded. So an untrusted string can never start a
 * line, move the cursor, recolour the screen, reorder what follows it, or wrap a fake verdict onto its own line.
 */
export { MAX_SHOWN, safe, cut, nameList } from '../util/escape.js';

/** Wraps already-safe text at spaces to `width` columns; continuation lines are indented by `indent` spaces. */
export function wrap(text: string, width: number, indent = 2): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const cand = line ? `${line} ${word}` : word;
    if (cand.length > width && line) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
    } else line = cand;
  }
  if (line) lines.push(line);
  return lines;
}

/** Width for wrapped reports: the terminal's, else 100 (pipes, CI logs). */
export function reportWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY && stream.columns ? Math.max(40, Math.min(stream.columns - 1, 160)) : 100;
}

/** Colours on a TTY unless NO_COLOR is set (https://no-color.org). */
export function colors(stream: { isTTY?: boolean } = process.stdout): { green(s: string): string; red(s: string): string; bold(s: string): string } {
  const on = stream.isTTY === true && !process.env.NO_COLOR;
  const c = (code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { green: c('32'), red: c('31'), bold: c('1') };
}
