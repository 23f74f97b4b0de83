#!/usr/bin/env node
// `aicert-verify ARGS` is `aicert verify ARGS`: the same launcher, always the verify bundle.
import { join } from 'node:path';
import { runBundle } from '../src/cli/bundle-loader.js';
import { dispatch } from '../src/cli/dispatch.js';

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const d = dispatch(['verify', ...process.argv.slice(2)]);
if ('exit' in d) process.exitCode = d.exit;
else runBundle(d.cmd, join(__dirname, `cmd-${d.cmd}.cjs`), d.rest);
