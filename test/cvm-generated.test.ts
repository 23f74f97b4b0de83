// Generated SEV-SNP evidence: a private ARK → ASK → VCEK hierarchy made by openssl (test/helpers/snp-gen.ts), an
// SNP report signed by the VCEK, an HCL report around it, and a vTPM quote signed by its HCLAkPub. Covers what the
// real vectors cannot: debug guests, VMPLs, TCB and chip-id mismatches, unpinned measurements, and that a
// hierarchy other than the configured roots is refused.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyError } from '../src/errors.js';
import { verifyConfidentialVmQuote, type ConfidentialVmInput } from '../src/tpm/cvm.js';
import { hclSnpMeasurement, pinSnp } from './helpers/cvm-pins.js';
import { bindRuntime, hclReport, makeSnpHierarchy, runtimeData, snpReport, type SnpHierarchy, type SnpReportOptions } from './helpers/snp-gen.js';
import { outcome } from './helpers/outcome.js';

const Q = resolve(import.meta.dirname, '../testvectors/quote/ak-rsa');
let h: SnpHierarchy;
let roots: { Milan: { ark: string; ask: string } };
const ak = generateKeyPairSync('rsa', { modulusLength: 2048 });

beforeAll(() => {
  h = makeSnpHierarchy();
  roots = { Milan: { ark: h.arkPem, ask: h.askPem } };
});
afterAll(() => h?.remove());

/** An HCL report whose SNP report has the given policy / VMPL / TCB / chip id, signed by the generated VCEK. */
function evidence(o: Omit<SnpReportOptions, 'reportData'> = {}): ConfidentialVmInput {
  const runtime = runtimeData(ak.publicKey.export({ format: 'jwk' }) as Record<string, unknown>);
  const msg = readFileSync(join(Q, 'quote.msg'));
  return {
    hclReport: new Uint8Array(hclReport(snpReport(h, { reportData: bindRuntime(runtime), ...o }), runtime)),
    vcek: h.vcekPem,
    quote: { attest: new Uint8Array(msg), signature: new Uint8Array(sign('sha256', msg, ak.privateKey)), signatureFormat: 'plain', pcrs: new Uint8Array(readFileSync(join(Q, 'pcrs.values.bin'))) },
    nonce: new Uint8Array(Buffer.from(readFileSync(join(Q, 'nonce.hex'), 'utf8').trim(), 'hex')),
  };
}
const pinned = (e: ConfidentialVmInput) => pinSnp(hclSnpMeasurement(e.hclReport));

const code = (p: Promise<unknown>): Promise<string> => outcome(p, 'ok');

describe('generated SEV-SNP evidence (private test hierarchy)', () => {
  it('verifies end to end with the test hierarchy given as amdRoots and the measurement pinned', async () => {
    const e = evidence();
    const v = await verifyConfidentialVmQuote(e, { amdRoots: roots, rules: pinned(e) });
    expect(v.complete).toBe(true);
    expect((v.claims.reportedTcb as { snp: number; microcode: number }).snp).toBe(8);
  });
  it('is refused under the embedded AMD roots (CERT_UNTRUSTED_ROOT): only the configured ARKs end a VCEK path', async () => {
    const e = evidence();
    expect(await code(verifyConfidentialVmQuote(e, { rules: pinned(e) }))).toBe('CERT_UNTRUSTED_ROOT');
  });
  it('a genuine report from any guest image is refused unless its measurement is pinned (was: valid)', async () => {
    const e = evidence({ measurement: Buffer.alloc(48, 0xee) });
    expect(await code(verifyConfidentialVmQuote(e, { amdRoots: roots }))).toBe('CVM_MEASUREMENT_NOT_PINNED');
    expect(await code(verifyConfidentialVmQuote(e, { amdRoots: roots, rules: pinSnp('5a'.repeat(48)) }))).toBe('CVM_POLICY_MISMATCH');
  });
  it('a genuine report requested at VMPL 1..3 is refused by default (SNP_VMPL_NOT_ALLOWED; was: valid), allowed when the rules list it', async () => {
    for (const vmpl of [1, 3]) {
      const e = evidence({ vmpl });
      expect(await code(verifyConfidentialVmQuote(e, { amdRoots: roots, rules: pinned(e) }))).toBe('SNP_VMPL_NOT_ALLOWED');
      expect(await code(verifyConfidentialVmQuote(e, { amdRoots: roots, rules: { snp: { ...pinned(e).snp, vmpl: [0, vmpl] } } }))).toBe('ok');
    }
  });
  it('a minimum TCB rule refuses a genuine report below it (CVM_POLICY_MISMATCH)', async () => {
    const e = evidence();
    const rules = (snp: number) => ({ snp: { ...pinned(e).snp, minTcb: { snp, microcode: 0x73 } } });
    expect(await code(verifyConfidentialVmQuote(e, { amdRoots: roots, rules: rules(8) }))).toBe('ok');
    expect(await code(verifyConfidentialVmQuote(e, { amdRoots: roots, rules: rules(9) }))).toBe('CVM_POLICY_MISMATCH');
  });
  it('a debug guest is refused by default (SNP_DEBUG_GUEST, a PolicyError) and accepted with allowDebug', async () => {
    const e = evidence({ debug: true });
    await expect(verifyConfidentialVmQuote(e, { amdRoots: roots, rules: pinned(e) })).rejects.toBeInstanceOf(PolicyError);
    expect(await code(verifyConfidentialVmQuote(e, { amdRoots: roots, rules: pinned(e) }))).toBe('SNP_DEBUG_GUEST');
    expect((await verifyConfidentialVmQuote(e, { amdRoots: roots, allowDebug: true, rules: pinned(e) })).complete).toBe(true);
  });
  it('a genuinely signed report at another TCB, or from another chip, does not match the VCEK (SNP_VCEK_MISMATCH)', async () => {
    expect(await code(verifyConfidentialVmQuote(evidence({ snpSpl: 9 }), { amdRoots: roots }))).toBe('SNP_VCEK_MISMATCH');
    expect(await code(verifyConfidentialVmQuote(evidence({ chip: Buffer.alloc(64, 1) }), { amdRoots: roots }))).toBe('SNP_VCEK_MISMATCH');
  });
});
