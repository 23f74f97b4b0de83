import { defineConfig } from 'tsup';

// Library entry points (ESM, with declarations) and the two CLIs.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'tpm/index': 'src/tpm/index.ts',
    'eventlog/index': 'src/eventlog/index.ts',
    'aibom/index': 'src/aibom/index.ts',
    'launcher/index': 'src/launcher/index.ts',
    'runner/index': 'src/runner/index.ts',
    errors: 'src/errors.ts',
    'node/hashing': 'src/node/hashing.ts',
    'bin/aicert': 'bin/aicert.ts',
    'bin/aicert-verify': 'bin/aicert-verify.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'neutral',
  dts: {
    entry: {
      index: 'src/index.ts',
      'tpm/index': 'src/tpm/index.ts',
      'eventlog/index': 'src/eventlog/index.ts',
      'aibom/index': 'src/aibom/index.ts',
      'launcher/index': 'src/launcher/index.ts',
      errors: 'src/errors.ts',
    },
  },
  splitting: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
});
