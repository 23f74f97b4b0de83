/**
 * The `aicert` front door shared by main() and the bin launchers: help, --version, unknown commands. It loads no
 * command code, so a launcher can answer these and pick the one command bundle to load (spec/cli.md §Every command).
 */
import { printJson } from './io.js';
import { packageVersion } from './version.js';
import { Escaped, stderr } from '../node/stderr.js';

/** Every subcommand; each lives in src/cli/cmd-NAME.ts and exports `run(argv): Promise<number>`. */
export const COMMAND_NAMES = ['quote', 'credential', 'eventlog', 'predict', 'hash', 'verify', 'policy', 'export', 'runs', 'down', 'finetune', 'image', 'runner', 'serve'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export const HELP = `aicert — verify AI model provenance (TPM quotes, event logs, AIBOMs)

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
  serve      serve the verifier page on loopback (serve [--port N] [--host 127.0.0.1]); nothing is uploaded

Run 'aicert <command> --help' for a command's options and an example. --version prints the version.

Example:
  aicert verify aibom.json --trust-root ca.pem --policy policy.json --model ./weights`;

/** The options before a `--` terminator. */
function options(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/** True when --json is among the options (before a `--` terminator). */
export function wantsJson(argv: string[]): boolean {
  return options(argv).includes('--json');
}

/** What to do with a command line: exit now with a code (help, version, unknown command) or run one command. */
export type Dispatch = { exit: number } | { cmd: CommandName; rest: string[] };

/** Answers help, --version and unknown commands itself; otherwise names the command to run. */
export function dispatch(argv: string[]): Dispatch {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') {
    (cmd ? process.stdout : process.stderr).write(HELP + '\n');
    return { exit: cmd ? 0 : 2 };
  }
  if (cmd === '--version' || cmd === '-V' || options(rest).includes('--version')) {
    process.stdout.write(`aicert ${packageVersion()}\n`);
    return { exit: 0 };
  }
  if (!(COMMAND_NAMES as readonly string[]).includes(cmd)) {
    stderr`aicert: unknown command '${cmd}'\n\n${new Escaped(HELP)}\n`;
    if (wantsJson(argv)) printJson({ error: { code: 'USAGE', message: `unknown command '${cmd.slice(0, 60)}'` } });
    return { exit: 2 };
  }
  return { cmd: cmd as CommandName, rest };
}
