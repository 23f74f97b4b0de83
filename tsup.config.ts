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
    // The library and the runner (Node), sharing chunks. The CLI is built by scripts/build-bin.mjs.
    entry: {
      ...LIBRARY,
      'runner/index': 'src/runner/index.ts',
      'node/hashing': 'src/node/hashing.ts',
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
    // One ES module with every dependency inlined, for <script type="module"> and the headless-browser test.
    entry: { 'browser/aicert': 'src/browser.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/.*/],
    splitting: false,
    sourcemap: false,
    minify: true,
    clean: false,
    dts: false,
  },
]);
