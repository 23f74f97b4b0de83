// Verification time per output: v1 AIBOMs with 1k, 24k and 100k outputs (made once on swtpm, cached in the temp
// directory; needs swtpm and tpm2-tools), JSON and CBOR, through verifyAibom with the demo policy. Target ≤ 10 µs
// per output, flat across sizes. Uses dist/ (AICERT_DIST=<dir> points elsewhere); AICERT_BENCH_OUTPUTS=1000,24000 picks sizes.
// AICERT_DIST_BEFORE=<dir> also times an earlier build in the same run. The floor printed per size is plain JSON.parse of
// the JSON document (no checks at all), the least any strict reader can cost.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { outputsAibom } from './fixtures/outputs-aibom.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.AICERT_DIST ?? join(here, '..', 'dist'));
if (spawnSync('sh', ['-c', 'command -v swtpm && command -v tpm2_quote']).status !== 0) {
  console.log('  swtpm or tpm2-tools not installed: skipping the outputs scaling benchmark');
  process.exit(0);
}
const builds = [['', dist]];
if (process.env.AICERT_DIST_BEFORE) builds.unshift(['before ', resolve(process.env.AICERT_DIST_BEFORE)]);
const verifiers = [];
for (const [label, dir] of builds) verifiers.push([label, (await import(pathToFileURL(join(dir, 'aibom', 'index.js')).href)).verifyAibom]);
const median3 = async (fn) => {
  const t = [];
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[1];
};
const policy = new Uint8Array(readFileSync(join(here, '..', 'testvectors', 'demo', 'policy.json')));
const SIZES = (process.env.AICERT_BENCH_OUTPUTS ?? '1000,24000,100000').split(',').map(Number);
for (const n of SIZES) {
  const d = await outputsAibom(n, join(here, '..', 'dist'));
  const floor = await median3(() => JSON.parse(new TextDecoder().decode(d.json)));
  console.log(`  ${String(n).padStart(6)} outputs floor: ${floor.toFixed(0).padStart(6)} ms  ${((floor * 1000) / n).toFixed(1).padStart(6)} µs/output (plain JSON.parse of the JSON document)`);
  for (const [label, verifyAibom] of verifiers) {
    for (const [fmt, doc] of [['JSON', d.json], ['CBOR', d.cbor]]) {
      const ms = await median3(async () => {
        const r = await verifyAibom(doc, { trustAnchors: [d.rootPem], policy });
        if (!r.valid || r.claims.outputs?.length !== n) throw new Error(`${n} outputs ${fmt}: did not verify`);
      });
      console.log(`  ${String(n).padStart(6)} outputs ${(label + fmt).padEnd(11)}: ${ms.toFixed(0).padStart(6)} ms  ${((ms * 1000) / n).toFixed(1).padStart(6)} µs/output (target ≤ 10)`);
    }
  }
}
