/** Node-only CLI plumbing: argument parsing, file reading, exit-code mapping and check reports. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MalformedInputError, PolicyError, VerificationError } from '../errors.js';
import { flagWords } from './flag-words.js';
import { colors, safe } from './text.js';
import { ToolError } from '../wire/tool-error.js';

/** Bad usage (unknown flag, missing argument): exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command name at the start of a usage line (`aicert hash`, `aicert-verify`). */
const commandOf = (usage: string): string => usage.split(' ').filter((w, i) => i === 0 || /^[a-z][a-z-]*$/.test(w)).slice(0, 2).join(' ');

/** Node's parseArgs message in plain words: the flag, and what was expected. */
function friendly(e: Error & { code?: string }, usage: string): string {
  const flag = /'(-[^' ]+)/.exec(e.message)?.[1];
  const shown = flag ? safe(flag, 60) : '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${shown}`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(e.message)) return `option ${shown} takes no value`;
    const at = flag ? usage.indexOf(`${flag} `) : -1;
    const want = at >= 0 ? /^[A-Z0-9|]+/.exec(usage.slice(at + flag!.length + 1))?.[0] ?? 'a value' : 'a value';
    return `option ${shown} needs ${want === 'a value' ? want : `a value (${shown} ${want})`}`;
  }
  return safe(e.message, 200);
}

/** Parses argv strictly; unknown flags are a UsageError naming the flag, what was expected, and --help. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(friendly(e as Error, usage), usage);
  }
}

/** A UsageError with the usage line and the help hint. */
export function usageError(what: string, usage: string): UsageError {
  return new UsageError(`${what}\nusage: ${usage}\nRun '${commandOf(usage)} --help' for the options and an example.`);
}

/** Largest input file read by default (bytes): the document size limit of spec/aibom-v1.md. */
export const MAX_INPUT_BYTES = 64 << 20;
/** Largest event log or UKI read (bytes). */
export const MAX_LARGE_INPUT_BYTES = 1 << 30;

/**
 * Reads a file given on the command line (`-` is stdin), at most `max` bytes: a larger regular file is refused from its
 * size, and a stream or device (a pipe, /dev/zero) is read only until it passes `max`. Unreadable or too large is a
 * MalformedInputError (exit 2).
 */
export function readInput(path: string, what: string, max = MAX_INPUT_BYTES): Uint8Array {
  const tooLarge = () => new MalformedInputError(`${what} ${path} is larger than ${max} bytes`, { path: what });
  let fd: number | undefined;
  try {
    fd = path === '-' ? 0 : openSync(path, 'r');
    // a regular file is judged by its size; anything else is read in chunks up to the limit
    const st = fstatSync(fd);
    if (st.isFile() && st.size > max) throw tooLarge();
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      // a regular file in one read of its size (plus one byte to see the end), other inputs 1 MiB at a time
      const buf = Buffer.allocUnsafe(Math.max(1, Math.min(st.isFile() && n === 0 ? st.size + 1 : 1 << 20, max + 1 - n)));
      const r = readSync(fd, buf, 0, buf.length, null);
      if (r === 0) break;
      n += r;
      if (n > max) throw tooLarge();
      chunks.push(buf.subarray(0, r));
    }
    const b = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if (e instanceof MalformedInputError) throw e;
    throw new MalformedInputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      path: what,
    });
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
}

/** Exit code for an error, as the CLI contract says: 1 verification/policy, 2 malformed input or usage. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof VerificationError || e instanceof PolicyError) return 1;
  return 2;
}

/** One line per check in a report. */
export interface Check {
  id: string;
  /** null: the check could not run (its input was not given). */
  ok: boolean | null;
  detail: string;
}

/** Prints checks as ✓/✗ lines with their reasons; details carry untrusted text, so they are escaped and bounded. */
export function printChecks(checks: Check[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): void {
  const c = colors();
  for (const ch of checks) {
    const mark = ch.ok === null ? '–' : ch.ok ? c.green('✓') : c.red('✗');
    out(`${mark} ${safe(ch.id).padEnd(22)} ${ch.ok === null ? 'not checked: ' : ''}${safe(flagWords(ch.detail), 400)}`);
  }
}

let jsonPrinted = false;

/** True once a command has printed its JSON document (main then prints no error document). */
export function jsonWasPrinted(): boolean {
  return jsonPrinted;
}

/** Starts a command with no JSON printed yet (main may run several commands in one process). */
export function resetJsonPrinted(): void {
  jsonPrinted = false;
}

/** Records that a command streamed its JSON document itself (so main prints no error document after it). */
export function markJsonPrinted(): void {
  jsonPrinted = true;
}

/** Prints one JSON document on stdout. */
export function printJson(v: unknown): void {
  jsonPrinted = true;
  process.stdout.write(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2) + '\n');
}

/** The machine form of an error that ended a command: code, message, and where in the input when known. */
export function errorJson(e: unknown): Record<string, unknown> {
  const err: Record<string, unknown> =
    e instanceof UsageError
      ? { code: 'USAGE' }
      : e instanceof VerificationError || e instanceof PolicyError || e instanceof MalformedInputError || e instanceof ToolError
        ? { code: e.code }
        : { code: 'ERROR' };
  err.message = e instanceof UsageError ? e.message.split('\n')[0] : describeError(e);
  if (e instanceof MalformedInputError) {
    if (e.path !== undefined) err.path = e.path;
    if (e.offset !== undefined) err.offset = e.offset;
  }
  return err;
}

/** Describes an error for stderr. */
export function describeError(e: unknown): string {
  if (e instanceof VerificationError || e instanceof PolicyError) return `${e.code}: ${flagWords(e.message)}`;
  if (e instanceof Error) return flagWords(e.message);
  return String(e);
}
