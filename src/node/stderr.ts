/**
 * The one way Node-side code writes to stderr (spec/cli.md §Human reports): a tagged template whose literal parts are
 * written as they are and whose every interpolated value goes through the project's escaper, so a message, a server
 * answer, a file name or a trainer's output can never carry a control character to the builder's terminal. Also the
 * line filter for a remote log stream (the runner's /build/status, fed by the trainer), bounded per line.
 * test/stderr-sinks.test.ts fails when any other file in src/ writes to stderr.
 */
import { safe } from '../util/escape.js';

/** Longest interpolated value shown whole on stderr (error messages run longer than report fields). */
export const MAX_STDERR_VALUE = 2000;
/** Longest line of a remote log shown; a longer one is cut, with a count of what was left out. */
export const MAX_LOG_LINE = 4000;

/** Text that was already escaped line by line (e.g. a usage error: escaped lines joined by newlines); passed as is. */
export class Escaped {
  constructor(readonly text: string) {}
}

/** The template with every interpolated value escaped (literal parts are the caller's own, trusted text). */
export function escaped(strings: TemplateStringsArray, ...values: unknown[]): string {
  let out = strings[0]!;
  values.forEach((v, i) => (out += (v instanceof Escaped ? v.text : safe(v, MAX_STDERR_VALUE)) + strings[i + 1]!));
  return out;
}

/** Writes the template to stderr, every interpolated value escaped: stderr`aicert x: ${message}\n`. */
export function stderr(strings: TemplateStringsArray, ...values: unknown[]): void {
  process.stderr.write(escaped(strings, ...values));
}

/** A log line sink `(line) => void` that prints `prefix` and the escaped line on stderr. */
export function stderrLines(prefix: string): (line: string) => void {
  return (line) => void process.stderr.write(`${prefix}${safe(line, MAX_STDERR_VALUE)}\n`);
}

/**
 * A filter for streamed remote text: splits at line ends (LF, CRLF, or a lone CR, which progress bars use to redraw),
 * escapes each line and hands it on with a newline. A partial line is held up to MAX_LOG_LINE characters, then
 * passed on as it is (escaped), so memory stays bounded whatever the stream sends.
 */
export class LogLines {
  private partial = '';

  constructor(private readonly out: (text: string) => void = (t) => void process.stderr.write(t)) {}

  /** Takes one chunk of the stream. */
  write(chunk: string): void {
    // complete lines out, the unfinished one kept
    const parts = (this.partial + chunk).split(/\r\n|\n|\r/);
    this.partial = parts.pop()!;
    // a line that never ends is passed on in pieces rather than held without bound
    if (this.partial.length > MAX_LOG_LINE * 2) {
      parts.push(this.partial);
      this.partial = '';
    }
    if (parts.length) this.out(parts.map((l) => safe(l, MAX_LOG_LINE)).join('\n') + '\n');
  }

  /** Passes on what is held (the stream ended without a final line end). */
  end(): void {
    if (this.partial) this.out(safe(this.partial, MAX_LOG_LINE) + '\n');
    this.partial = '';
  }
}
