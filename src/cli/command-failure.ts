/**
 * How a command that ended in an error reports it (spec/cli.md §JSON): escaped text on stderr and, with --json, the
 * command's report shape with the one `error` object on stdout. Shared by the command runner inside each bundle and
 * by the launcher, which reports a bundle it could not load the same way.
 */
import { describeError, errorJson, exitCodeFor, jsonWasPrinted, printJson, UsageError } from './io.js';
import { wantsJson } from './dispatch.js';
import { safe } from './text.js';
import { Escaped, stderr } from '../node/stderr.js';

/** The JSON an error path prints (spec/cli.md §JSON): the command's report shape, with the one `error` object. */
function errorDocument(cmd: string, e: unknown): Record<string, unknown> {
  const error = errorJson(e);
  if (cmd === 'verify') return { valid: false, checks: [], claims: {}, warnings: [], unchecked: [], error };
  if (cmd === 'quote') return { valid: false, checks: [], error };
  if (cmd === 'finetune') return { exit: exitCodeFor(e), verified: false, error };
  return { error };
}

/** stderr text of an error: untrusted parts escaped; a usage error keeps its usage and hint lines. */
function errorText(e: unknown): string {
  const text = describeError(e);
  return e instanceof UsageError ? text.split('\n').map((l) => safe(l, 1000)).join('\n') : safe(text, 1000);
}

/** Reports the error that ended `cmd` (stderr, and the JSON document when --json asked for one); returns its exit code. */
export function reportCommandFailure(cmd: string, rest: string[], e: unknown): number {
  stderr`aicert ${cmd}: ${new Escaped(errorText(e))}\n`;
  if (!(e instanceof UsageError) && exitCodeFor(e) === 2 && process.env.AICERT_DEBUG) stderr`${(e as Error).stack ?? e}\n`;
  // --json promises one JSON document on stdout, error paths included.
  if (wantsJson(rest) && !jsonWasPrinted()) printJson(errorDocument(cmd, e));
  return exitCodeFor(e);
}
