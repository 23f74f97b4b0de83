/**
 * A runner that serves root → intermediate → leaf with PCR 15 measuring the root (the original runners' Caddy local
 * CA): `aicert finetune --runner` attests it, validates the served chain anchored only at the measured certificate,
 * pins the leaf, and the run completes and verifies. The chain is made with openssl; golden PCRs come from
 * tpm2_pcrread. A chain whose intermediate is not a CA, or that leads to another root, is refused.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestRunner } from '../src/launcher/atls.js';
import { runFinetune } from '../src/launcher/finetune.js';
import { makeCa, makeMirror, provisionedSwtpm, spawnRunner, tempDir, TRAINER, type RunnerProcess, type TestCa } from './helpers/runner-rig.js';
import { swtpmAvailable, type Swtpm } from './helpers/swtpm.js';

const run = promisify(execFile);

/** openssl: a CA (self-signed or issued by `parent`) or a leaf; `ca` false makes an end-entity certificate. */
async function cert(dir: string, name: string, subj: string, o: { parent?: string; ca: boolean; pathlen?: number }) {
  const key = join(dir, `${name}.key`), csr = join(dir, `${name}.csr`), pem = join(dir, `${name}.pem`), ext = join(dir, `${name}.ext`);
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  await writeFile(ext, o.ca ? `basicConstraints=critical,CA:true${o.pathlen !== undefined ? `,pathlen:${o.pathlen}` : ''}\nkeyUsage=critical,keyCertSign,cRLSign\n` : 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
  if (!o.parent) return void (await run('openssl', ['req', '-x509', '-new', '-key', key, '-subj', subj, '-days', '30', '-out', pem, '-extensions', 'v3', '-config', await cfg(dir, ext)]));
  await run('openssl', ['req', '-new', '-key', key, '-subj', subj, '-out', csr]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', join(dir, `${o.parent}.pem`), '-CAkey', join(dir, `${o.parent}.key`), '-CAcreateserial', '-days', '30', '-extfile', ext, '-out', pem]);
}
async function cfg(dir: string, ext: string) {
  const f = join(dir, 'req.cnf');
  await writeFile(f, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${(await import('node:fs')).readFileSync(ext, 'utf8')}`);
  return f;
}

describe.skipIf(!swtpmAvailable())('runner serving root → intermediate → leaf (Caddy local CA layout)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  let sw: Swtpm;
  let runner: RunnerProcess;
  let config: string;
  let measurements: string;
  const d = () => join(tmp.dir, 'tls');

  beforeAll(async () => {
    tmp = await tempDir('aicert-chain-');
    ca = await makeCa(join(tmp.dir, 'ca'));
    await (await import('node:fs/promises')).mkdir(d(), { recursive: true });
    await cert(d(), 'root', '/CN=Caddy Local Authority - 2026 ECC Root', { ca: true });
    await cert(d(), 'inter', '/CN=Caddy Local Authority - ECC Intermediate', { parent: 'root', ca: true, pathlen: 0 });
    await cert(d(), 'leaf', '/CN=runner', { parent: 'inter', ca: false });
    const m = await makeMirror(join(tmp.dir, 'mirror'));
    config = join(tmp.dir, 'aicert.yaml');
    await writeFile(config, m.configYaml);
    sw = await provisionedSwtpm(ca);
    const { stdout } = await run('tpm2_pcrread', ['sha256:0,1,2,3,4,5,6,7'], { env: sw.env });
    measurements = JSON.stringify({ measurements: Object.fromEntries([...stdout.matchAll(/^\s*(\d+)\s*:\s*0x([0-9A-F]{64})/gim)].map((x) => [x[1]!, x[2]!.toLowerCase()])) });
    runner = await spawnRunner({
      tcti: sw.tcti, mirror: m.mirror, workDir: join(tmp.dir, 'work'),
      args: ['--cert-chain', join(ca.dir, 'intermediate.pem'), '--tls-key', join(d(), 'leaf.key'), '--tls-cert', join(d(), 'leaf.pem'), '--tls-chain', join(d(), 'inter.pem'), '--tls-ca', join(d(), 'root.pem')],
    });
  });
  afterAll(async () => {
    await runner?.stop();
    await sw?.stop();
    await tmp?.rm();
  });

  it('aicert finetune --runner completes and verifies', async () => {
    const { stdout: sum } = await run('sha256sum', [TRAINER]);
    const containers = JSON.stringify({ '@local/aicert-runner:test': `sha256:${sum.split(' ')[0]}` });
    const r = await runFinetune({ config, runnerUrl: runner.url, trustAnchors: [ca.rootPem], measurements, containers, dir: join(tmp.dir, 'out'), log: () => undefined, onLogText: () => undefined, pollMs: 200 });
    expect(r.error, JSON.stringify([r.aibom?.checks.filter((c) => c.ok !== true), r.attestation?.checks.filter((c) => c.ok !== true)])).toBeUndefined();
    expect(r.exit).toBe(0);
    expect(r.atls?.find((c) => c.id === 'tls.certificate')?.detail).toMatch(/chain of 2 validates to the measured certificate/);
    expect(r.aibom?.valid).toBe(true);
  });

  it('a served chain that does not lead to the measured certificate is refused (TLS_CERT_MISMATCH)', async () => {
    // Same leaf and intermediate, but PCR 15 measures an unrelated root: the chain must be anchored at it, and is not.
    await cert(d(), 'other', '/CN=Some Other Root', { ca: true });
    const sw2 = await provisionedSwtpm(ca);
    const r2 = await spawnRunner({
      tcti: sw2.tcti, mirror: join(tmp.dir, 'mirror'), workDir: join(tmp.dir, 'work2'),
      args: ['--cert-chain', join(ca.dir, 'intermediate.pem'), '--tls-key', join(d(), 'leaf.key'), '--tls-cert', join(d(), 'leaf.pem'), '--tls-chain', join(d(), 'inter.pem'), '--tls-ca', join(d(), 'other.pem')],
    });
    try {
      await expect(attestRunner(r2.url, { trustAnchors: [ca.rootPem] })).rejects.toMatchObject({ code: 'TLS_CERT_MISMATCH' });
    } finally {
      await r2.stop();
      await sw2.stop();
    }
  });
});
