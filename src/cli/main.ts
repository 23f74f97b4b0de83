/** `aicert` command dispatcher. Each subcommand lives in its own module, loaded on use, and returns an exit code. */
import { dispatch, type CommandName } from './dispatch.js';
import { runCommand, type Command } from './run-command.js';

const COMMANDS: Record<CommandName, () => Promise<{ run: Command }>> = {
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
  serve: () => import('./cmd-serve.js'),
};

/** Runs a subcommand and maps errors to the contract's exit codes. */
export async function main(argv: string[]): Promise<number> {
  const d = dispatch(argv);
  if ('exit' in d) return d.exit;
  return runCommand(d.cmd, d.rest, COMMANDS[d.cmd]);
}
