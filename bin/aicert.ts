#!/usr/bin/env node
// `aicert` launcher: answers help and --version itself, then runs the one command bundle it needs
// (dist/bin/cmd-NAME.cjs, loaded with its code cache), so a command never loads another command's code.
import { join } from 'node:path';
import { runBundle } from '../src/cli/bundle-loader.js';
import { dispatch } from '../src/cli/dispatch.js';

// A closed pipe (`aicert eventlog x | head`) ends the process quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const d = dispatch(process.argv.slice(2));
if ('exit' in d) process.exitCode = d.exit;
else runBundle(d.cmd, join(__dirname, `cmd-${d.cmd}.cjs`), d.rest);
