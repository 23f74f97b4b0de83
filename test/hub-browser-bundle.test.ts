// The Hub core is browser-safe: bundled for the browser (with @huggingface/hub's own browser build, which its
// package.json `browser` field names), it pulls in no Node built-in and stays small.
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

test('src/hub bundles for browsers without Node built-ins', async () => {
  const r = await build({
    entryPoints: [resolve(ROOT, 'src/hub/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    alias: { '@huggingface/hub': resolve(ROOT, 'node_modules/@huggingface/hub/dist/browser/index.mjs') },
  });
  const inputs = Object.keys(r.metafile.inputs);
  expect(inputs.filter((i) => i.startsWith('node:') || /(^|\/)src\/node\//.test(i))).toEqual([]);
  const bytes = r.outputFiles[0]!.contents.length;
  console.log(`src/hub browser bundle: ${bytes} bytes minified`);
  expect(bytes).toBeLessThan(150_000);
}, 60_000);
