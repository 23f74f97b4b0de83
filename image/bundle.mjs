// image/bundle.mjs OUTDIR — the runner and the image's trainer, each as ONE self-contained ES module (esbuild,
// every dependency inlined, no source maps, no timestamps: the same sources give the same bytes).
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? 'bundle');
const common = { bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning', legalComments: 'none', charset: 'utf8' };
// createRequire shim: CommonJS dependencies inlined into an ES module still call require() for Node built-ins.
const banner = { js: "import { createRequire as __aicertRequire } from 'node:module'; const require = __aicertRequire(import.meta.url);" };
const entry = join(ROOT, 'src/runner/cli-entry.ts');
await build({
  ...common,
  entryPoints: [entry],
  outfile: join(out, 'runner.mjs'),
  banner,
  footer: { js: 'main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => { console.error(`runner: ${e.message}`); process.exitCode = 1; });' },
});
await build({ ...common, entryPoints: [join(ROOT, 'testvectors/runner/tiny-trainer.mjs')], outfile: join(out, 'train.mjs'), banner });
