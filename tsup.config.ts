import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'tsup';
import { WEB_CSP } from './src/util/web-csp.js';

/** The verifier page's static files next to its module: index.html (with its CSP meta) and the style sheet. */
async function copyWebFiles(): Promise<void> {
  mkdirSync('dist/web', { recursive: true });
  const html = readFileSync('src/web/index.html', 'utf8');
  if (!html.includes('%CSP%')) throw new Error('src/web/index.html lost its %CSP% placeholder');
  writeFileSync('dist/web/index.html', html.replace('%CSP%', WEB_CSP));
  copyFileSync('src/web/style.css', 'dist/web/aicert-web.css');
}

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
  {
    // The verifier page (dist/web): one ES module that is both the page script and its hashing worker.
    entry: { 'web/aicert-web': 'src/web/main.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/.*/],
    splitting: false,
    sourcemap: false,
    minify: true,
    clean: false,
    dts: false,
    // @huggingface/hub's browser build (its package.json `browser` field), which esbuild does not pick by itself here
    esbuildOptions(o) {
      o.alias = { '@huggingface/hub': resolve('node_modules/@huggingface/hub/dist/browser/index.mjs') };
    },
    onSuccess: copyWebFiles,
  },
]);
