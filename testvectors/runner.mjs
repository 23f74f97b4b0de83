#!/usr/bin/env node
// runner.mjs [RUNNER OPTIONS] -- TRAIN-COMMAND... — starts the reference runner (src/runner/cli-entry.ts) from source:
// bundles it once with esbuild into node_modules/.cache/aicert-runner (dependencies stay external), then runs it.
// Options: src/runner/cli-entry.ts. Example on swtpm:
//   node testvectors/runner.mjs --tcti swtpm:host=127.0.0.1,port=2321 --port 8443 --work-dir /tmp/r \
//        --mirror /tmp/mirror -- node testvectors/runner/tiny-trainer.mjs
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles the runner entry; resolves to the bundle's path. */
export async function bundleRunner(outDir = join(ROOT, 'node_modules/.cache/aicert-runner')) {
  const outfile = join(outDir, 'runner.mjs');
  await build({
    entryPoints: [join(ROOT, 'src/runner/cli-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
    banner: { js: "import { realpathSync as __aicertRealpath } from 'node:fs';" },
    footer: { js: 'if (process.argv[1] && __aicertRealpath(process.argv[1]) === __aicertRealpath(new URL(import.meta.url).pathname)) main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => { console.error(`runner: ${e.message}`); process.exitCode = 1; });' },
  });
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bundle = await bundleRunner();
  const { main } = await import(pathToFileURL(bundle).href);
  process.exitCode = await main(process.argv.slice(2)).catch((e) => {
    console.error(`runner: ${e.message}`);
    return 1;
  });
}
