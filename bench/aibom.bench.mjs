// verifyAibom: warm latency, batch throughput and CLI cold start, against in-run baselines
// (spawning tpm2_checkquote as the original aicert did per document; an empty `node` process for start-up).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { line, timeIt } from './lib.mjs';
import { verifyAibom } from '../dist/aibom/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const demo = join(root, 'testvectors', 'demo');
const rd = (f) => new Uint8Array(readFileSync(join(demo, f)));
const opts = { trustAnchors: [readFileSync(join(demo, 'trust-root.pem'), 'utf8')], policy: rd('policy.json') };
const json = rd('aibom.json');
const cbor = rd('aibom.cbor');
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// Baseline: what the original verifier paid per document just to check the quote (a tpm2_checkquote process).
let base;
if (have('tpm2_checkquote')) {
  const q = join(root, 'testvectors', 'quote', 'ak-rsa');
  const nonce = readFileSync(join(q, 'nonce.hex'), 'utf8').trim();
  base = await timeIt(() => spawnSync('tpm2_checkquote', ['-u', join(q, 'ak.pub'), '-m', join(q, 'quote.msg'), '-s', join(q, 'quote.sig'), '-f', join(q, 'quote.pcrs'), '-g', 'sha256', '-q', nonce], { stdio: 'ignore' }), { iterations: 30, warmup: 3 });
  line('spawn tpm2_checkquote (baseline, quote only)', base);
}
const first = performance.now();
const r0 = await verifyAibom(json, opts);
if (!r0.valid) throw new Error('demo AIBOM did not verify');
console.log(`  first verifyAibom in this process (cold JIT): ${(performance.now() - first).toFixed(1)} ms`);
line('verifyAibom JSON, no weights (warm; target ≤ 2 ms)', await timeIt(() => verifyAibom(json, opts), { iterations: 300, warmup: 30 }), base);
line('verifyAibom CBOR, no weights (warm)', await timeIt(() => verifyAibom(cbor, opts), { iterations: 300, warmup: 30 }), base);
const files = (d) => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]));
const artifacts = Object.fromEntries(files(join(demo, 'weights')).map((f) => [relative(join(demo, 'weights'), f), new Uint8Array(readFileSync(f))]));
line('verifyAibom JSON with in-memory weights (warm)', await timeIt(() => verifyAibom(json, { ...opts, artifacts }), { iterations: 200, warmup: 20 }), base);

// Batch throughput on one core: many documents verified back to back (caches for anchors and chains warm).
const N = 2000;
const t0 = performance.now();
for (let i = 0; i < N; i++) await verifyAibom(i % 2 ? cbor : json, opts);
const perSec = N / ((performance.now() - t0) / 1000);
console.log(`  batch: ${N} documents → ${perSec.toFixed(0)} verifications/s on one core (target ≥ 1,000/s)`);

// CLI cold start: a whole `aicert-verify` process vs an empty node process.
const cli = join(root, 'dist', 'bin', 'aicert-verify.js');
const nodeBase = await timeIt(() => spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' }), { iterations: 10, warmup: 2 });
line('node -e "" (start-up baseline)', nodeBase);
const cliT = await timeIt(() => {
  const r = spawnSync(process.execPath, [cli, join(demo, 'aibom.json'), '--trust-root', join(demo, 'trust-root.pem'), '--policy', join(demo, 'policy.json'), '--model', join(demo, 'weights')], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('aicert-verify failed');
}, { iterations: 10, warmup: 2 });
console.log(`  aicert-verify demo with weights, whole process: ${cliT.median.toFixed(1)} ms (${(cliT.median - nodeBase.median).toFixed(1)} ms above an empty node process)`);
