/** Node-only CLI plumbing: argument parsing, file reading, exit-code mapping and check reports. */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MalformedInputError, PolicyError, VerificationError } from '../errors.js';

/** Bad usage (unknown flag, missing argument): exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses argv strictly; unknown flags are a UsageError. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nusage: ${usage}`);
  }
}

/** Reads a file given on the command line (`-` is stdin); unreadable files are MalformedInputError (exit 2). */
export function readInput(path: string, what: string): Uint8Array {
  try {
    const b = readFileSync(path === '-' ? 0 : path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new MalformedInputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      path: what,
    });
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

const useColor = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR;

/** Prints checks as ✓/✗ lines with their reasons. */
export function printChecks(checks: Check[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): void {
  const c = useColor();
  for (const ch of checks) {
    const mark = ch.ok === null ? '–' : ch.ok ? (c ? '\x1b[32m✓\x1b[0m' : '✓') : c ? '\x1b[31m✗\x1b[0m' : '✗';
    out(`${mark} ${ch.id.padEnd(22)} ${ch.ok === null ? 'not checked: ' : ''}${ch.detail}`);
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
    e instanceof UsageError ? { code: 'USAGE' } : e instanceof VerificationError || e instanceof PolicyError || e instanceof MalformedInputError ? { code: e.code } : { code: 'ERROR' };
  err.message = e instanceof UsageError ? e.message.split('\n')[0] : describeError(e);
  if (e instanceof MalformedInputError) {
    if (e.path !== undefined) err.path = e.path;
    if (e.offset !== undefined) err.offset = e.offset;
  }
  return err;
}

/** Describes an error for stderr. */
export function describeError(e: unknown): string {
  if (e instanceof VerificationError || e instanceof PolicyError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
