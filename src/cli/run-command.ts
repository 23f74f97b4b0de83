/**
 * Runs one loaded subcommand and maps its errors to the contract's exit codes and JSON (spec/cli.md §JSON).
 * It lives in the same bundle as the command it runs, so the error classes it tests are the ones the command threw.
 */
import { describeError, errorJson, exitCodeFor, jsonWasPrinted, printJson, resetJsonPrinted, UsageError } from './io.js';
import { useNodeHashes } from '../node/native-hash.js';
import { wantsJson } from './dispatch.js';
import { safe } from './text.js';
import { Escaped, stderr } from '../node/stderr.js';

export type Command = (argv: string[]) => Promise<number>;

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

/** Loads and runs `cmd` with its options; any error becomes its exit code, stderr text and (with --json) JSON. */
export async function runCommand(cmd: string, rest: string[], load: () => Promise<{ run: Command }>): Promise<number> {
  resetJsonPrinted();
  useNodeHashes();
  try {
    const mod = await load();
    return await mod.run(rest);
  } catch (e) {
    stderr`aicert ${cmd}: ${new Escaped(errorText(e))}\n`;
    if (!(e instanceof UsageError) && exitCodeFor(e) === 2 && process.env.AICERT_DEBUG) stderr`${(e as Error).stack ?? e}\n`;
    // --json promises one JSON document on stdout, error paths included.
    if (wantsJson(rest) && !jsonWasPrinted()) printJson(errorDocument(cmd, e));
    return exitCodeFor(e);
  }
}
