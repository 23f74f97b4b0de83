// Size budgets of what a browser loads before it can verify: the build fails when one grows past its budget.
// Each figure is an entry module plus every chunk it imports statically (chunks behind a dynamic import, such as the
// CBOR decoder, the original format, the confidential-VM verifiers and the boot-log parser, load only when a document
// needs them and are not counted). Budgets are in bytes; raise them only with a reason in the commit.
//  - dist/browser/aicert.js: the browser module of the whole root API (spec/api.md), as built by tsup.
//  - verifyAibom alone: `import { verifyAibom } from 'aicert'` in an app bundle (the built package, resolved through
//    its own exports map as an app's bundler resolves it), built here with esbuild.
//  - dist/web/aicert-web.js: the verifier page's module (src/web).
//  - verifyQuote alone: the same for `import { verifyQuote } from 'aicert'`, bundled without splitting (it loads
//    nothing lazily; with splitting, esbuild files modules that verifyAibom's lazy chunks share into chunks the
//    entry imports, which would count verifyAibom's code against verifyQuote).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGETS = {
  'dist/browser/aicert.js': { min: 210_000, gzip: 80_000 },
  'verifyAibom alone': { min: 155_000, gzip: 59_000, splitting: true },
  'verifyQuote alone': { min: 64_000, gzip: 25_000, splitting: false },
  // the verifier page: the verifier, the Hub client and the page (src/web), and its static chunks
  'dist/web/aicert-web.js': { min: 290_000, gzip: 105_000 },
};

/** Bytes of a built entry and its static imports (ES module `import … from './chunk.js'` lines). */
function distClosure(file) {
  const seen = new Map();
  const walk = (f) => {
    if (seen.has(f)) return;
    const text = readFileSync(f);
    seen.set(f, text);
    for (const m of text.toString('utf8').matchAll(/(?:^|[;}])\s*import\s*(?:[\w${},\s*]+from\s*)?["'](\.[^"']+)["']/g)) walk(join(dirname(f), m[1]));
  };
  walk(join(ROOT, file));
  return Buffer.concat([...seen.values()]);
}

/** Bytes of one named export of the built root, bundled for browsers with splitting, and its static imports. */
async function exportClosure(name, splitting) {
  const r = await build({
    stdin: { contents: `export { ${name} } from 'aicert';`, resolveDir: ROOT, loader: 'js' },
    absWorkingDir: ROOT,
    bundle: true,
    splitting,
    outdir: join(ROOT, '.size-budget'),
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  if (!splitting) return Buffer.from(r.outputFiles[0].contents);
  const outs = r.metafile.outputs;
  const entry = Object.keys(outs).find((k) => outs[k].entryPoint === '<stdin>');
  const seen = new Set();
  const walk = (k) => {
    if (seen.has(k)) return;
    seen.add(k);
    for (const i of outs[k].imports) if (i.kind === 'import-statement') walk(i.path);
  };
  walk(entry);
  const wanted = new Set([...seen].map((k) => resolve(ROOT, k)));
  return Buffer.concat(r.outputFiles.filter((f) => wanted.has(f.path)).map((f) => f.contents));
}

let over = false;
for (const [what, b] of Object.entries(BUDGETS)) {
  const buf = what.endsWith(' alone') ? await exportClosure(what.split(' ')[0], b.splitting) : distClosure(what);
  const gz = gzipSync(buf, { level: 9 }).length;
  const ok = buf.length <= b.min && gz <= b.gzip;
  over ||= !ok;
  console.log(`${ok ? 'ok  ' : 'OVER'} ${what}: ${buf.length} B minified (budget ${b.min}), ${gz} B gzipped (budget ${b.gzip})`);
}
if (over) process.exit(1);
