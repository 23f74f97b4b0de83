// Fixed costs of whole CLI processes against their baselines in the same run: `aicert-verify` on the demo against
// `node -e ''` (target ≤ 1.5×), `aicert quote` against `tpm2_checkquote` on the same quote (where installed).
// Wall medians of alternated runs, and CPU time (user+sys of 11 runs each, from the shell's `times`), which holds
// better than wall time on a shared machine.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { childCpuMs } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const dist = resolve(process.env.AICERT_DIST ?? join(root, 'dist'));
const demo = join(root, 'testvectors', 'demo');
const q = join(root, 'testvectors', 'quote', 'ak-rsa');
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const once = (cmd, args, ok = [0]) => {
  const s = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status} ${r.stderr}`);
  return performance.now() - s;
};
/** A and B alternated 11 times after a warm-up; medians and the median of the pairwise ratios. */
function pair(label, a, b, bLabel) {
  once(...a), once(...b);
  const ta = [], tb = [], ratio = [];
  for (let i = 0; i < 11; i++) {
    const x = once(...a), y = once(...b);
    ta.push(x), tb.push(y), ratio.push(x / y);
  }
  const ca = cpu(...a), cb = cpu(...b);
  console.log(`  ${label.padEnd(44)} ${med(ta).toFixed(0).padStart(5)} ms   ${bLabel} ${med(tb).toFixed(0).padStart(4)} ms   ratio ${med(ratio).toFixed(2)}×   cpu ${(ca / cb).toFixed(2)}× (${ca.toFixed(0)} / ${cb.toFixed(0)} ms per run)`);
}
const cpu = (cmd, args) => childCpuMs(cmd, args, 11);
const verify = [process.execPath, [join(dist, 'bin', 'aicert-verify.js'), join(demo, 'aibom.json'), '--trust-root', join(demo, 'trust-root.pem'), '--policy', join(demo, 'policy.json'), '--model', join(demo, 'weights')]];
pair('aicert-verify demo --model (target ≤ 1.5×)', verify, [process.execPath, ['-e', '']], "node -e ''");
const nonce = readFileSync(join(q, 'nonce.hex'), 'utf8').trim();
const quoteArgs = ['-u', join(q, 'ak.pub'), '-m', join(q, 'quote.msg'), '-s', join(q, 'quote.sig'), '-f', join(q, 'quote.pcrs'), '-g', 'sha256', '-q', nonce];
const aicertQuote = [process.execPath, [join(dist, 'bin', 'aicert.js'), 'quote', '--ak', join(q, 'ak.pub'), '--message', join(q, 'quote.msg'), '--signature', join(q, 'quote.sig'), '--pcrs', join(q, 'quote.pcrs'), '--nonce', nonce]];
pair('aicert quote', aicertQuote, [process.execPath, ['-e', '']], "node -e ''");
if (have('tpm2_checkquote')) pair('aicert quote', aicertQuote, ['tpm2_checkquote', quoteArgs], 'tpm2_checkquote');
