// Quote verification: in-process verifyQuote (+ AK chain) vs spawning tpm2_checkquote on the same files.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeIt, line } from './lib.mjs';
import { verifyQuote, verifyAkQuote } from '../dist/tpm/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'testvectors/quote/manifest.json'), 'utf8'));
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

for (const ak of ['ak-rsa', 'ak-ecc']) {
  const dir = join(root, 'testvectors/quote', ak);
  if (!existsSync(dir)) continue;
  const rd = (f) => new Uint8Array(readFileSync(join(dir, f)));
  const nonceHex = readFileSync(join(dir, 'nonce.hex'), 'utf8').trim();
  const input = { attest: rd('quote.msg'), signature: rd('quote.sig'), akPublic: rd('ak.pub'), pcrs: rd('quote.pcrs'), nonce: Buffer.from(nonceHex, 'hex') };
  console.log(`${ak}:`);
  let base;
  if (have('tpm2_checkquote')) {
    const args = ['-u', join(dir, 'ak.pub'), '-m', join(dir, 'quote.msg'), '-s', join(dir, 'quote.sig'), '-f', join(dir, 'quote.pcrs'), '-g', 'sha256', '-q', nonceHex];
    base = await timeIt(() => {
      const r = spawnSync('tpm2_checkquote', args, { stdio: 'ignore' });
      if (r.status !== 0) throw new Error('tpm2_checkquote failed');
    }, { iterations: 30, warmup: 3 });
    line('spawn tpm2_checkquote (baseline)', base);
  } else console.log('  tpm2_checkquote not installed: no baseline');
  line('verifyQuote in-process (warm)', await timeIt(() => verifyQuote(input), { iterations: 2000, warmup: 100 }), base);
  if (existsSync(join(dir, 'ak.crt.der'))) {
    const akCertificates = [rd('ak.crt.der'), readFileSync(join(dir, 'chain.pem'), 'utf8')];
    const trustAnchors = manifest.trust_anchors.map((f) => readFileSync(join(root, 'testvectors/quote', f), 'utf8'));
    const at = new Date(manifest.generated_at);
    line('verifyAkQuote: chain + quote + key binding (warm)', await timeIt(() => verifyAkQuote({ ...input, akCertificates }, { trustAnchors, at }), { iterations: 1000, warmup: 50 }), base);
  }
}
