/**
 * Runs one loaded subcommand and maps its errors to the contract's exit codes and JSON (spec/cli.md §JSON).
 * It lives in the same bundle as the command it runs, so the error classes it tests are the ones the command threw.
 */
import { resetJsonPrinted } from './io.js';
import { useNodeHashes } from '../node/native-hash.js';
import { reportCommandFailure } from './command-failure.js';

export type Command = (argv: string[]) => Promise<number>;

/** Loads and runs `cmd` with its options; any error becomes its exit code, stderr text and (with --json) JSON. */
export async function runCommand(cmd: string, rest: string[], load: () => Promise<{ run: Command }>): Promise<number> {
  resetJsonPrinted();
  useNodeHashes();
  try {
    const mod = await load();
    return await mod.run(rest);
  } catch (e) {
    return reportCommandFailure(cmd, rest, e);
  }
}
