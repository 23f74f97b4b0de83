/** `aicert` command dispatcher. Each subcommand lives in its own module and returns an exit code. */
import { describeError, errorJson, exitCodeFor, jsonWasPrinted, printJson, resetJsonPrinted, UsageError } from './io.js';
import { safe } from './text.js';
import { packageVersion } from './version.js';
import { Escaped, stderr } from '../node/stderr.js';

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
  quote      verify a TPM 2.0 quote (a replacement for tpm2_checkquote; its own flags)
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

Run 'aicert <command> --help' for a command's options and an example. --version prints the version.

Example:
  aicert verify aibom.json --trust-root ca.pem --policy policy.json --model ./weights`;

/** True when --json is among the options (before a `--` terminator). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** True when --version is among the options (before a `--` terminator). */
function wantsVersion(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--version');
}

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

/** Runs a subcommand and maps errors to the contract's exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') {
    (cmd ? process.stdout : process.stderr).write(HELP + '\n');
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-V' || wantsVersion(rest)) {
    process.stdout.write(`aicert ${packageVersion()}\n`);
    return 0;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    stderr`aicert: unknown command '${cmd}'\n\n${new Escaped(HELP)}\n`;
    if (wantsJson(argv)) printJson({ error: { code: 'USAGE', message: `unknown command '${cmd.slice(0, 60)}'` } });
    return 2;
  }
  resetJsonPrinted();
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
