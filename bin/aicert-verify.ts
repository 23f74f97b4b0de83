#!/usr/bin/env node
// Thin entry point: `aicert-verify ARGS` is `aicert verify ARGS`.
import { main } from '../src/cli/main.js';

main(['verify', ...process.argv.slice(2)]).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  },
);
