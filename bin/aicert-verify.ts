#!/usr/bin/env node
// Thin entry point: `aicert-verify ARGS` is `aicert verify ARGS`.
import { main } from '../src/cli/main.js';
import { stderr } from '../src/node/stderr.js';

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(['verify', ...process.argv.slice(2)]).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // an error that escaped main: its text is escaped like every other stderr value
    stderr`aicert: ${(e as Error)?.stack ?? e}\n`;
    process.exitCode = 2;
  },
);
