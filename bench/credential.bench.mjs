// Credential activation, verifier side: in-process makeCredential vs spawning `tpm2_makecredential -T none` on the
// same EK public and AK Name. The EK and AK come from a private swtpm (testvectors/lib/swtpm.sh), stopped by PID.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { line, timeIt } from './lib.mjs';
import { makeCredential } from '../dist/tpm/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
if (!['swtpm', 'swtpm_setup', 'tpm2_createek', 'tpm2_makecredential'].every(have)) {
  console.log('  swtpm or tpm2-tools not installed: skipped');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'aicert-bench-cred-'));
try {
  // Make an RSA and an ECC EK with an AK under each, then stop swtpm (the EXIT trap kills it by PID).
  const script = `set -euo pipefail
source "${root}/testvectors/lib/common.sh"; source "${root}/testvectors/lib/swtpm.sh"
trap swtpm_stop EXIT
swtpm_manufacture "$D/tpm" "$D/setup.log"; swtpm_start "$D/tpm" "$D/swtpm.log"; tpm2_startup -c
for g in rsa ecc; do
  tpm2_createek -G $g -c "$D/ek.ctx" -u "$D/ek_$g.pub" >/dev/null
  tpm2_createak -C "$D/ek.ctx" -c "$D/ak.ctx" -n "$D/ak_$g.name" >/dev/null
  tpm2_flushcontext -t
done`;
  const made = spawnSync('bash', ['-c', script], { env: { ...process.env, D: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (made.status !== 0) throw new Error(`swtpm key setup failed: ${made.stderr}`);
  const secret = new Uint8Array(32).fill(0x5a);
  writeFileSync(join(dir, 'secret.bin'), secret);
  for (const g of ['rsa', 'ecc']) {
    const ekPublic = new Uint8Array(readFileSync(join(dir, `ek_${g}.pub`)));
    const akName = new Uint8Array(readFileSync(join(dir, `ak_${g}.name`)));
    console.log(`${g} EK:`);
    const args = ['-T', 'none', '-u', join(dir, `ek_${g}.pub`), '-s', join(dir, 'secret.bin'), '-n', Buffer.from(akName).toString('hex'), '-o', join(dir, 'cred.out')];
    const base = await timeIt(() => {
      const r = spawnSync('tpm2_makecredential', args, { stdio: 'ignore' });
      if (r.status !== 0) throw new Error('tpm2_makecredential failed');
    }, { iterations: 30, warmup: 3 });
    line('spawn tpm2_makecredential -T none (baseline)', base);
    line('makeCredential in-process (warm)', await timeIt(() => makeCredential({ ekPublic, akName, secret }), { iterations: 1000, warmup: 50 }), base);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
