#!/usr/bin/env node
// Thin entry point over src/cli/main.ts.
import { main } from '../src/cli/main.js';
import { stderr } from '../src/node/stderr.js';

// A closed pipe (`aicert eventlog x | head`) ends the process quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // an error that escaped main: its text is escaped like every other stderr value
    stderr`aicert: ${(e as Error)?.stack ?? e}\n`;
    process.exitCode = 2;
  },
);
