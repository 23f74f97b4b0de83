// A confidential-VM AIBOM made live, end to end: swtpm with the runner's AK (its public key from the provisioning,
// as PEM), an HCL report whose HCLAkPub is that AK, bound by an SNP report signed by a test VCEK (openssl-made
// ARK → ASK → VCEK, test/helpers/snp-gen.ts), written into the vTPM NV index 0x01400001 where Azure's paravisor puts
// it; the real runner (its own process) reads it, fetches the VCEK from a loopback IMDS THIM, runs a fine-tune and
// quotes over the AIBOM statement. aicert-verify says VALID with --amd-roots and the pinned measurement; not without.
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HCL_REPORT_NV_INDEX } from '../src/runner/hcl.js';
import { Tpm } from '../src/runner/tpm.js';
import { runCli } from './helpers/cli.js';
import { makeCa, makeMirror, provisionedSwtpm, sha256hex, spawnRunner, tempDir, type RunnerProcess, callRunner } from './helpers/runner-rig.js';
import { bindRuntime, hclReport, makeSnpHierarchy, runtimeData, snpReport, type SnpHierarchy } from './helpers/snp-gen.js';
import { swtpmAvailable, type Swtpm } from './helpers/swtpm.js';

const call = callRunner;

const MEASUREMENT = Buffer.alloc(48, 0x4c).toString('hex');

describe.skipIf(!swtpmAvailable())('confidential-VM AIBOM made live by the runner on swtpm', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let sw: Swtpm;
  let runner: RunnerProcess;
  let h: SnpHierarchy;
  let imds: Server;
  let thimCalls = 0;
  let doc: string;
  const nonce = sha256hex('cvm attestation nonce');

  beforeAll(async () => {
    tmp = await tempDir('aicert-cvm-runner-');
    h = makeSnpHierarchy();
    sw = await provisionedSwtpm(await makeCa(join(tmp.dir, 'ca')));
    // The HCL report around the runner's AK, where the paravisor writes it.
    const jwk = createPublicKey(readFileSync(join(sw.dir, 'ak.pem'))).export({ format: 'jwk' }) as Record<string, unknown>;
    const runtime = runtimeData(jwk);
    const hcl = hclReport(snpReport(h, { reportData: bindRuntime(runtime), measurement: Buffer.from(MEASUREMENT, 'hex') }), runtime, 2, 0);
    const tpm = await Tpm.open(sw.tcti);
    await tpm.nvWrite(HCL_REPORT_NV_INDEX, new Uint8Array(hcl));
    await tpm.close();
    // Loopback IMDS answering THIM with the test VCEK and its chain.
    imds = createServer((req, res) => {
      thimCalls++;
      if (req.url !== '/metadata/THIM/amd/certification' || req.headers.metadata !== 'true') return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ vcekCert: h.vcekPem, certificateChain: h.askPem + h.arkPem, tcbm: '7300000000000803', cacheControl: '86400' }));
    });
    await new Promise<void>((r) => imds.listen(0, '127.0.0.1', r));
    const m = await makeMirror(join(tmp.dir, 'mirror'));
    runner = await spawnRunner({ tcti: sw.tcti, mirror: m.mirror, workDir: join(tmp.dir, 'work'), args: ['--launch-nonce', sha256hex('launch'), '--confidential-vm', '--vcek-imds', '--imds-endpoint', `http://127.0.0.1:${(imds.address() as { port: number }).port}`] });
    expect((await call(`${runner.url}/axolotl/configuration`, 'POST', m.configYaml)).status).toBe(200);
    expect((await call(`${runner.url}/finetune`, 'POST')).status).toBe(202);
    expect((await call(`${runner.url}/build/status`)).text).toMatch(/status: done/);
    const a = await call(`${runner.url}/attestation?nonce=${nonce}`);
    expect(a.status).toBe(200);
    doc = a.text;
    writeFileSync(join(tmp.dir, 'aibom.json'), doc);
    writeFileSync(join(tmp.dir, 'policy.json'), JSON.stringify({ confidentialVm: { snp: { measurement: [MEASUREMENT] } } }));
  }, 180_000);
  afterAll(async () => {
    await runner?.stop();
    await sw?.stop();
    await new Promise((r) => (imds ? imds.close(r) : r(undefined)));
    h?.remove();
    await tmp?.rm();
  });

  it('the runner put the HCL report and the THIM VCEK bundle into evidence.cvm', () => {
    const cvm = JSON.parse(doc).evidence.cvm;
    expect(thimCalls).toBe(1);
    expect(cvm.vcek).toContain(h.vcekPem.trim());
    expect(Buffer.from(cvm.hclReport, 'base64').subarray(0, 4).toString('latin1')).toBe('HCLA');
  });
  it('aicert-verify: VALID with --amd-roots and the launch measurement pinned (exit 0)', async () => {
    const r = await runCli(['verify', join(tmp.dir, 'aibom.json'), '--amd-roots', h.rootsFile, '--policy', join(tmp.dir, 'policy.json'), '--allow-unchecked-platform', '--nonce', nonce, '--json']);
    const j = JSON.parse(r.out);
    expect(j.error).toBeUndefined();
    expect([r.code, j.valid]).toEqual([0, true]);
    const ok = Object.fromEntries(j.checks.map((c: { id: string; ok: boolean | null }) => [c.id, c.ok]));
    for (const id of ['cvm.snp.vcek.chain', 'cvm.snp.report.signature', 'cvm.runtime-data', 'cvm.ak', 'policy.confidentialVm.measurement', 'quote.signature', 'ak.binding', 'binding.quote', 'nonce']) expect(ok[id], id).toBe(true);
  });
  it('aicert-verify: NOT VALID unpinned (CVM_MEASUREMENT_NOT_PINNED), with AMD\'s real roots only (CERT_UNTRUSTED_ROOT), or for another nonce', async () => {
    const base = ['verify', join(tmp.dir, 'aibom.json'), '--allow-unchecked-platform', '--json'];
    const code = async (extra: string[]) => JSON.parse((await runCli([...base, ...extra])).out).error?.code;
    expect(await code(['--amd-roots', h.rootsFile, '--nonce', nonce])).toBe('CVM_MEASUREMENT_NOT_PINNED');
    expect(await code(['--policy', join(tmp.dir, 'policy.json'), '--nonce', nonce])).toBe('CERT_UNTRUSTED_ROOT');
    expect(await code(['--amd-roots', h.rootsFile, '--policy', join(tmp.dir, 'policy.json'), '--nonce', sha256hex('other')])).toBe('NONCE_MISMATCH');
  });
});
