// A fully valid confidential-VM AIBOM end to end: the swtpm-made AIBOM of testvectors/aibom (a real AK's quote over a
// real AIBOM statement, made by the runner core) with its AK certificate replaced by the confidential-VM form: an
// HCL report whose HCLAkPub is that AK (JWK from the certificate by node:crypto), an SNP report binding it, signed by
// a test VCEK chained to a test ARK/ASK made by openssl and given with --amd-roots. aicert-verify says VALID with the
// launch measurement pinned, and each link changed by one byte fails with its own code.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAibom } from '../src/aibom/verify.js';
import type { VerifyAibomOptions } from '../src/aibom/types.js';
import { runCli } from './helpers/cli.js';
import { bindRuntime, hclReport, makeSnpHierarchy, runtimeData, snpReport, type SnpHierarchy } from './helpers/snp-gen.js';

const A = resolve(import.meta.dirname, '../testvectors/aibom');
const manifest = JSON.parse(readFileSync(join(A, 'manifest.json'), 'utf8')) as { nonce: string };
const MEASUREMENT = Buffer.alloc(48, 0x6d);
let h: SnpHierarchy;
let doc: Record<string, any>;
const policy = (m = MEASUREMENT.toString('hex')) => ({ confidentialVm: { platforms: ['sev-snp'], snp: { measurement: [m], vmpl: [0], minTcb: { snp: 8 } } } });

beforeAll(() => {
  h = makeSnpHierarchy();
  doc = JSON.parse(readFileSync(join(A, 'aibom.json'), 'utf8'));
  const cert = new X509Certificate(Buffer.from(doc.evidence.tpm.akCertificates[0], 'base64'));
  const runtime = runtimeData(cert.publicKey.export({ format: 'jwk' }) as Record<string, unknown>);
  const report = snpReport(h, { reportData: bindRuntime(runtime), measurement: MEASUREMENT });
  delete doc.evidence.tpm.akCertificates;
  doc.evidence.cvm = { hclReport: hclReport(report, runtime).toString('base64'), vcek: h.vcekPem };
  writeFileSync(join(h.dir, 'aibom.json'), JSON.stringify(doc));
  writeFileSync(join(h.dir, 'policy.json'), JSON.stringify(policy()));
});
afterAll(() => h?.remove());

const copy = (): Record<string, any> => JSON.parse(JSON.stringify(doc));
const opts = (): VerifyAibomOptions => ({
  amdRoots: { Milan: { ark: h.arkPem, ask: h.askPem } },
  policy: policy(),
  measurements: readFileSync(join(A, 'measurements.json')),
  containers: readFileSync(join(A, 'containers.json')),
  nonce: manifest.nonce,
});
/** Flips one bit of a base64 field at byte `at` (negative: from the end). */
function flip(o: Record<string, any>, key: string, at: number): void {
  const b = Buffer.from(o[key], 'base64');
  b[at < 0 ? b.length + at : at]! ^= 1;
  o[key] = b.toString('base64');
}
/** Flips one bit inside the base64 body of a PEM certificate, `back` bytes before its end. */
function flipPem(pem: string, back: number): string {
  const b = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  b[b.length - back]! ^= 1;
  return `-----BEGIN CERTIFICATE-----\n${b.toString('base64')}\n-----END CERTIFICATE-----\n`;
}

describe('confidential-VM AIBOM, fully valid end to end (generated AMD hierarchy, swtpm quote)', () => {
  it('aicert-verify: VALID with --amd-roots and the measurement pinned by --policy (exit 0)', async () => {
    const r = await runCli(['verify', join(h.dir, 'aibom.json'), '--amd-roots', h.rootsFile, '--policy', join(h.dir, 'policy.json'), '--measurements', join(A, 'measurements.json'), '--containers', join(A, 'containers.json'), '--nonce', manifest.nonce, '--json']);
    const j = JSON.parse(r.out);
    expect(j.error).toBeUndefined();
    expect([r.code, j.valid]).toEqual([0, true]);
    const ok = Object.fromEntries(j.checks.map((c: { id: string; ok: boolean | null }) => [c.id, c.ok]));
    for (const id of ['cvm.snp.vcek.chain', 'cvm.snp.vcek.tcb', 'cvm.snp.report.signature', 'cvm.snp.policy.debug', 'cvm.snp.vmpl', 'cvm.runtime-data', 'cvm.ak', 'policy.confidentialVm.measurement', 'policy.confidentialVm', 'quote.signature', 'ak.binding', 'binding.quote', 'nonce']) expect(ok[id], id).toBe(true);
    expect(j.claims.platform.hardware.measurement).toBe(MEASUREMENT.toString('hex'));
  });
  it('aicert-verify: NOT VALID without the pin (CVM_MEASUREMENT_NOT_PINNED) and without the AMD roots (CERT_UNTRUSTED_ROOT)', async () => {
    const base = ['verify', join(h.dir, 'aibom.json'), '--measurements', join(A, 'measurements.json'), '--containers', join(A, 'containers.json'), '--nonce', manifest.nonce, '--json'];
    const unpinned = JSON.parse((await runCli([...base, '--amd-roots', h.rootsFile])).out);
    expect([unpinned.valid, unpinned.error?.code]).toEqual([false, 'CVM_MEASUREMENT_NOT_PINNED']);
    const noRoots = JSON.parse((await runCli([...base, '--policy', join(h.dir, 'policy.json')])).out);
    expect([noRoots.valid, noRoots.error?.code]).toEqual([false, 'CERT_UNTRUSTED_ROOT']);
    const storeOnly = JSON.parse((await runCli([...base, '--policy', join(h.dir, 'policy.json'), '--trust-store', 'amd'])).out);
    expect(storeOnly.error?.code).toBe('CERT_UNTRUSTED_ROOT');
  });
  it('the library agrees: valid with the same inputs', async () => {
    const r = await verifyAibom(JSON.stringify(doc), opts());
    expect([r.valid, r.error]).toEqual([true, undefined]);
  });

  const hclAt = (d: Record<string, any>, at: number) => {
    const b = Buffer.from(d.evidence.cvm.hclReport, 'base64');
    b[at]! ^= 1;
    d.evidence.cvm.hclReport = b.toString('base64');
  };
  const links: [string, (d: Record<string, any>, o: VerifyAibomOptions) => void, string][] = [
    ['ASK signature (ARK → ASK)', (_d, o) => { o.amdRoots = { Milan: { ark: h.arkPem, ask: flipPem(h.askPem, 10) } }; }, 'CERT_SIGNATURE_INVALID'],
    ['VCEK signature (ASK → VCEK)', (d) => { d.evidence.cvm.vcek = flipPem(h.vcekPem, 10); }, 'CERT_SIGNATURE_INVALID'],
    ['SNP reported_tcb (VCEK ↔ report)', (d) => hclAt(d, 32 + 0x186), 'SNP_VCEK_MISMATCH'],
    ['SNP report measurement (VCEK → report)', (d) => hclAt(d, 32 + 0x90), 'SNP_REPORT_SIGNATURE_INVALID'],
    ['SNP report signature', (d) => hclAt(d, 32 + 0x2a0), 'SNP_REPORT_SIGNATURE_INVALID'],
    ['runtime data (report → HCLAkPub)', (d) => hclAt(d, Buffer.from(d.evidence.cvm.hclReport, 'base64').indexOf('secure-boot') + 3), 'HCL_RUNTIME_DATA_MISMATCH'],
    ['pinned measurement (policy)', (_d, o) => { o.policy = policy('6c' + '6d'.repeat(47)); }, 'CVM_POLICY_MISMATCH'],
    ['vTPM quote message (HCLAkPub → quote)', (d) => flip(d.evidence.tpm, 'attest', -3), 'SIGNATURE_INVALID'],
    ['vTPM quote signature', (d) => flip(d.evidence.tpm, 'signature', -3), 'SIGNATURE_INVALID'],
    ['statement (quote → statement)', (d) => {
      const b = Buffer.from(d.statement, 'base64');
      const at = b.indexOf('"sha256"') + 20;
      b[at] = b[at] === 0x30 ? 0x31 : 0x30;
      d.statement = b.toString('base64');
    }, 'BINDING_MISMATCH'],
    ['expected nonce (freshness)', (_d, o) => { o.nonce = '00' + manifest.nonce.slice(2); }, 'NONCE_MISMATCH'],
  ];
  for (const [what, mutate, want] of links) {
    it(`one byte changed in the ${what} fails with ${want}`, async () => {
      const d = copy();
      const o = opts();
      mutate(d, o);
      const r = await verifyAibom(JSON.stringify(d), o);
      expect([r.valid, r.error?.code]).toEqual([false, want]);
    });
  }
});
