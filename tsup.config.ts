import { defineConfig } from 'tsup';

// Public library entry points: each gets JS and declarations.
const LIBRARY = {
  index: 'src/index.ts',
  'tpm/index': 'src/tpm/index.ts',
  'eventlog/index': 'src/eventlog/index.ts',
  'aibom/index': 'src/aibom/index.ts',
  'launcher/index': 'src/launcher/index.ts',
  'node/index': 'src/node/index.ts',
  errors: 'src/errors.ts',
};

export default defineConfig([
  {
    // The library, the CLIs and the runner (Node), sharing chunks.
    entry: {
      ...LIBRARY,
      'runner/index': 'src/runner/index.ts',
      'node/hashing': 'src/node/hashing.ts',
      'bin/aicert': 'bin/aicert.ts',
      'bin/aicert-verify': 'bin/aicert-verify.ts',
    },
    format: ['esm'],
    target: 'node20',
    platform: 'neutral',
    dts: { entry: LIBRARY },
    splitting: true,
    sourcemap: false,
    clean: false,
    treeshake: true,
  },
  {
    // ES modules with every dependency inlined, for <script type="module"> and the headless-browser test: the entry
    // dist/browser/aicert.js plus chunks next to it that load on demand (CBOR, the original format, confidential
    // VMs, the boot-log parser), so a plain JSON AIBOM loads only what verifies it.
    entry: { aicert: 'src/browser.ts' },
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/.*/],
    splitting: true,
    sourcemap: false,
    minify: true,
    clean: false,
    dts: false,
  },
]);
