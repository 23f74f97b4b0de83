/** `aicert` command dispatcher. Each subcommand lives in its own module and returns an exit code. */
import { describeError, errorJson, exitCodeFor, jsonWasPrinted, printJson, resetJsonPrinted, UsageError } from './io.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<{ run: Command }>> = {
  quote: () => import('./cmd-quote.js'),
  credential: () => import('./cmd-credential.js'),
  eventlog: () => import('./cmd-eventlog.js'),
  predict: () => import('./cmd-predict.js'),
  hash: () => import('./cmd-hash.js'),
  verify: () => import('./cmd-verify.js'),
  policy: () => import('./cmd-policy.js'),
  export: () => import('./cmd-export.js'),
  runs: () => import('./cmd-runs.js'),
  down: () => import('./cmd-down.js'),
  finetune: () => import('./cmd-finetune.js'),
  image: () => import('./cmd-image.js'),
  runner: () => import('./cmd-runner.js'),
};

const HELP = `aicert — verify AI model provenance (TPM quotes, event logs, AIBOMs)

usage: aicert <command> [options]

commands:
  quote      verify a TPM 2.0 quote (drop-in for tpm2_checkquote)
  credential seal a secret to an EK for one AK (like tpm2_makecredential -T none)
  eventlog   parse and replay an event log
  predict    compute golden PCR values from a UKI
  hash       sha256sum-style digests of model files and directories (--sharded, --json)
  verify     verify an AIBOM or original attestation.json (same as aicert-verify)
  policy     write a policy from a known-good event log (policy from-log LOG > policy.json)
  export     write the in-toto statement or a CycloneDX 1.6 ML-BOM of an AIBOM
  runs       list fine-tune runs recorded in $AICERT_HOME (default ~/.aicert) (--json)
  down       delete every cloud resource a run still owns (down RUN)
  finetune   fine-tune on an attested runner (Azure VM or --runner URL) and verify the result
  image      build the runner image (image build --out DIR) or put it on an Azure gallery (image upload)
  runner     the reference runner a VM image starts (runner --help)

Run 'aicert <command> --help' for a command's options.`;

/** True when --json is among the options (before a `--` terminator). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The JSON an error path prints, in the shape of the command's own report (valid/verified false). */
function errorDocument(cmd: string, e: unknown): Record<string, unknown> {
  const err = errorJson(e);
  if (cmd === 'verify') return { valid: false, checks: [], claims: {}, error: err };
  // quote and finetune reports carry the error as a string beside its code.
  const { code, message, ...where } = err;
  if (cmd === 'quote') return { valid: false, code, error: message, ...where, checks: [] };
  if (cmd === 'finetune') return { exit: exitCodeFor(e), verified: false, code, error: message, ...where };
  return { error: err };
}

/** Runs a subcommand and maps errors to the contract's exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') {
    process.stdout.write(HELP + '\n');
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') {
    process.stdout.write('aicert 0.1.0\n');
    return 0;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`aicert: unknown command '${cmd}'\n\n${HELP}\n`);
    return 2;
  }
  resetJsonPrinted();
  try {
    const mod = await load();
    return await mod.run(rest);
  } catch (e) {
    process.stderr.write(`aicert ${cmd}: ${describeError(e)}\n`);
    if (!(e instanceof UsageError) && exitCodeFor(e) === 2 && process.env.AICERT_DEBUG) console.error(e);
    // --json promises one JSON document on stdout, error paths included.
    if (wantsJson(rest) && !jsonWasPrinted()) printJson(errorDocument(cmd, e));
    return exitCodeFor(e);
  }
}
