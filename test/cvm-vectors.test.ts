// Azure confidential VM evidence (trustee's az-snp-vtpm / az-tdx-vtpm test data, constellation's SNP data):
// AMD/Intel chain → hardware report → runtime data → HCLAkPub → vTPM quote → nonce, and one-byte changes per link.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../src/errors.js';
import { verifyConfidentialVmQuote, type ConfidentialVmInput } from '../src/tpm/cvm.js';
import { parseHclReport } from '../src/tpm/hcl.js';
import { parseSnpReport } from '../src/tpm/snp.js';
import { verifyVcek } from '../src/tpm/snp-vcek.js';
import { utf8 } from '../src/util/bytes.js';
import { hclSnpMeasurement, pinSnp, pinTdx, tdQuoteMrTd } from './helpers/cvm-pins.js';
import { vectorsDir } from './helpers/vectors.js';
import { outcome } from './helpers/outcome.js';

const V = vectorsDir();
const d = describe.skipIf(!V);
const read = (p: string): Uint8Array => new Uint8Array(readFileSync(join(V ?? '', p)));
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(join(V ?? '', p), 'utf8'));
const bytes = (a: unknown): Uint8Array => new Uint8Array(a as number[]);
const AT = new Date('2026-01-01T00:00:00Z');

/** trustee evidence-v0.json (SNP) as a ConfidentialVmInput. */
function snpInput(): ConfidentialVmInput {
  const e = json('trustee/az-snp-vtpm/evidence-v0.json');
  const q = e.quote as Record<string, unknown[]>;
  const pcrs = (q.pcrs as number[][]).map((p) => bytes(p));
  const all = new Uint8Array(pcrs.length * 32);
  pcrs.forEach((p, i) => all.set(p, i * 32));
  return {
    hclReport: bytes(e.report),
    vcek: e.vcek as string,
    quote: { attest: bytes(q.message), signature: bytes(q.signature), signatureFormat: 'plain', pcrs: all },
    nonce: utf8('challenge'),
  };
}

function tdxInput(): ConfidentialVmInput {
  const e = json('trustee/az-tdx-vtpm/evidence-v0.json');
  const q = e.tpm_quote as Record<string, unknown>;
  return {
    hclReport: bytes(e.hcl_report),
    tdQuote: bytes(e.td_quote),
    quote: { attest: bytes(q.message), signature: bytes(q.signature), signatureFormat: 'plain' },
    nonce: utf8('challenge'),
  };
}

const code = (p: Promise<unknown>): Promise<string> => outcome(p, 'ok');

d('Azure SEV-SNP confidential VM (trustee az-snp-vtpm)', () => {
  it('parses the HCL report: SNP type, SHA-256 runtime data hash, HCLAkPub RSA-2048', () => {
    const h = parseHclReport(read('trustee/az-snp-vtpm/hcl-report.bin'));
    expect(h.reportType).toBe('snp');
    expect(h.runtimeData.length).toBe(1110);
    expect(h.akPub?.kty).toBe('RSA');
    expect((h.claims['vm-configuration'] as Record<string, unknown>).vmUniqueId).toBe('911B0EF8-9DBA-48B0-B275-4E4DF2D39252');
  });

  it('verifies end to end: Milan chain, report signature, runtime data, HCLAkPub, quote, nonce, PCR0', async () => {
    const i = snpInput();
    const v = await verifyConfidentialVmQuote(i, { at: AT, rules: pinSnp(hclSnpMeasurement(i.hclReport)) });
    expect(v.platform).toBe('sev-snp');
    expect(v.claims.product).toBe('Milan');
    expect(v.complete).toBe(true);
    expect(v.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['snp.vcek.chain', 'snp.vcek.tcb', 'snp.report.signature', 'hcl.runtime-data', 'hcl.ak', 'signature', 'nonce', 'pcrs.digest']));
    const pcr0 = [...v.quote.pcrs!.values()][0]!.get(0)!;
    expect(Buffer.from(pcr0).toString('hex')).toMatch(/^e15c4479.*8dced$/);
    expect((v.claims.policy as { debug: boolean }).debug).toBe(false);
  });

  it('evidence-v1.json (base64 HCL report, hex quote) verifies too', async () => {
    const e = json('trustee/az-snp-vtpm/evidence-v1.json');
    const q = e.tpm_quote as Record<string, string>;
    const v = await verifyConfidentialVmQuote({
      hclReport: new Uint8Array(Buffer.from(e.hcl_report as string, 'base64')),
      vcek: new Uint8Array(Buffer.from(e.vcek as string, 'base64')),
      quote: { attest: new Uint8Array(Buffer.from(q.message!, 'hex')), signature: new Uint8Array(Buffer.from(q.signature!, 'hex')), signatureFormat: 'plain' },
      nonce: utf8('challenge'),
    }, { at: AT, rules: pinSnp(hclSnpMeasurement(new Uint8Array(Buffer.from(e.hcl_report as string, 'base64')))) });
    expect(v.claims.product).toBe('Milan');
  });

  it('the genuine evidence is refused while the launch measurement is not pinned (CVM_MEASUREMENT_NOT_PINNED), or pinned to another', async () => {
    const i = snpInput();
    expect(await code(verifyConfidentialVmQuote(i, { at: AT }))).toBe('CVM_MEASUREMENT_NOT_PINNED');
    await verifyConfidentialVmQuote(i, { at: AT }).catch((e: PolicyError) => expect(e.message).toMatch(/not pinned.*own firmware and paravisor/));
    expect(await code(verifyConfidentialVmQuote(i, { at: AT, rules: pinSnp('00'.repeat(48)) }))).toBe('CVM_POLICY_MISMATCH');
    expect(await code(verifyConfidentialVmQuote(i, { at: AT, rules: { snp: { measurement: [hclSnpMeasurement(i.hclReport)], vmpl: [1] } } }))).toBe('SNP_VMPL_NOT_ALLOWED');
    expect(await code(verifyConfidentialVmQuote(i, { at: AT, rules: { snp: { measurement: [hclSnpMeasurement(i.hclReport)], minTcb: { microcode: 255 } } } }))).toBe('CVM_POLICY_MISMATCH');
  });

  it('AMD roots come from the trust configuration: another ARK configured instead of AMD\'s refuses the genuine VCEK', async () => {
    const i = snpInput();
    const intelOnly = await code(verifyConfidentialVmQuote(i, { at: AT, rules: pinSnp(hclSnpMeasurement(i.hclReport)), intelRoots: [read('constellation/snp/certchain.pem')], amdRoots: {} }));
    expect(intelOnly).toBe('CERT_UNTRUSTED_ROOT');
  });

  const links: [string, (i: ConfidentialVmInput) => void, string][] = [
    ['VCEK signature byte (AMD chain)', (i) => { const b = Buffer.from((i.vcek as string).replace(/-----[^-]+-----|\s/g, ''), 'base64'); b[b.length - 10]! ^= 1; i.vcek = new Uint8Array(b); }, 'CERT_SIGNATURE_INVALID'],
    ['SNP report measurement byte (hardware report)', (i) => { i.hclReport[32 + 0x90]! ^= 1; }, 'SNP_REPORT_SIGNATURE_INVALID'],
    ['SNP report signature byte', (i) => { i.hclReport[32 + 0x2a0]! ^= 1; }, 'SNP_REPORT_SIGNATURE_INVALID'],
    ['SNP reported_tcb byte (VCEK ↔ report)', (i) => { i.hclReport[32 + 0x180]! ^= 1; }, 'SNP_VCEK_MISMATCH'],
    ['runtime data byte (user-data digit)', (i) => { const at = 32 + 1184 + 20 + 1100; i.hclReport[at] = i.hclReport[at] === 0x30 ? 0x31 : 0x30; }, 'HCL_RUNTIME_DATA_MISMATCH'],
    ['quote message byte (HCLAkPub → quote)', (i) => { i.quote.attest[i.quote.attest.length - 1]! ^= 1; }, 'SIGNATURE_INVALID'],
    ['quote signature byte', (i) => { i.quote.signature[7]! ^= 1; }, 'SIGNATURE_INVALID'],
    ['nonce byte', (i) => { i.nonce = utf8('challengf'); }, 'NONCE_MISMATCH'],
    ['PCR value byte', (i) => { (i.quote.pcrs as Uint8Array)[0]! ^= 1; }, 'PCR_DIGEST_MISMATCH'],
  ];
  for (const [what, mutate, want] of links) {
    it(`one byte changed in the ${what} fails with ${want}`, async () => {
      const i = snpInput();
      mutate(i);
      expect(await code(verifyConfidentialVmQuote(i, { at: AT }))).toBe(want);
    });
  }

  it('refuses a debug guest by default (policy bit 19), accepts with allowDebug; the signature still binds it', async () => {
    const i = snpInput();
    i.hclReport[32 + 8 + 2]! |= 0x08;
    // Setting the bit breaks the AMD signature first: policy is only reached for genuine reports.
    expect(await code(verifyConfidentialVmQuote(i, { at: AT }))).toBe('SNP_REPORT_SIGNATURE_INVALID');
  });

  it('without the VCEK says so (SNP_VCEK_MISSING)', async () => {
    const i = snpInput();
    delete i.vcek;
    expect(await code(verifyConfidentialVmQuote(i, { at: AT }))).toBe('SNP_VCEK_MISSING');
  });
});

d('constellation SNP data (VCEK from Azure THIM and AMD KDS, VLEK)', () => {
  it('the VCEK (PEM and DER) chains to ARK-Milan with the certchain as intermediates', async () => {
    for (const f of ['constellation/snp/vcek.pem', 'constellation/snp/vcek.cert']) {
      const v = await verifyVcek(read(f), [read('constellation/snp/certchain.pem')], AT);
      expect(v.kind).toBe('vcek');
      expect(v.product).toBe('Milan');
    }
  });
  it('the VLEK chains through its ASVK to ARK-Milan', async () => {
    const v = await verifyVcek(read('constellation/snp/vlek.pem'), [read('constellation/snp/vlekcertchain.pem')], new Date('2024-01-01T00:00:00Z'));
    expect(v.kind).toBe('vlek');
  });
  it('parses the attestation report', () => {
    const r = parseSnpReport(read('constellation/snp/attestation.bin').subarray(0, 0x4a0));
    expect(r.signingKey).toBe('vcek');
  });
});

d('Azure TDX confidential VM (trustee az-tdx-vtpm)', () => {
  it('verifies end to end: PCK chain to Intel SGX Root CA, QE binding, quote, TDREPORT match, runtime data, HCLAkPub, vTPM quote', async () => {
    const i = tdxInput();
    const v = await verifyConfidentialVmQuote(i, { at: AT, rules: pinTdx(tdQuoteMrTd(i.tdQuote!)) });
    expect(v.platform).toBe('tdx');
    expect(v.checks.find((c) => c.id === 'tdx.qe-identity')?.ok).toBe(true);
    expect(v.checks.find((c) => c.id === 'tdx.debug')?.ok).toBe(true);
    expect(v.checks.find((c) => c.id === 'tdx.tcb-status')?.ok).toBe(null);
    expect(v.checks.filter((c) => c.ok === false)).toEqual([]);
  });
  const links: [string, (i: ConfidentialVmInput) => void, string][] = [
    ['PCK certificate signature', (i) => { const q = i.tdQuote!; const s = Buffer.from(q).indexOf('-----END CERTIFICATE-----'); q[s - 8] = q[s - 8] === 0x41 ? 0x42 : 0x41; }, 'CERT_SIGNATURE_INVALID'],
    ['QE report', (i) => { i.tdQuote![48 + 584 + 4 + 128 + 6 + 50]! ^= 1; }, 'TDX_QE_REPORT_SIGNATURE_INVALID'],
    ['attestation key', (i) => { i.tdQuote![48 + 584 + 4 + 64 + 5]! ^= 1; }, 'TDX_QE_BINDING_MISMATCH'],
    ['TD quote body', (i) => { i.tdQuote![48 + 200]! ^= 1; }, 'TDX_QUOTE_SIGNATURE_INVALID'],
    ['TDREPORT mrtd', (i) => { i.hclReport[32 + 528]! ^= 1; }, 'TDX_REPORT_MISMATCH'],
    ['runtime data', (i) => { const at = i.hclReport.length - 200; i.hclReport[at] = i.hclReport[at] === 0x30 ? 0x31 : 0x30; }, 'HCL_RUNTIME_DATA_MISMATCH'],
    ['vTPM quote', (i) => { i.quote.attest[20]! ^= 1; }, 'SIGNATURE_INVALID'],
    ['nonce', (i) => { i.nonce = utf8('Challenge'); }, 'NONCE_MISMATCH'],
  ];
  it('the genuine TD is refused while MRTD is not pinned (CVM_MEASUREMENT_NOT_PINNED), and without a configured Intel root', async () => {
    const i = tdxInput();
    expect(await code(verifyConfidentialVmQuote(i, { at: AT }))).toBe('CVM_MEASUREMENT_NOT_PINNED');
    expect(await code(verifyConfidentialVmQuote(i, { at: AT, rules: pinTdx(tdQuoteMrTd(i.tdQuote!)), intelRoots: [] }))).toBe('CERT_UNTRUSTED_ROOT');
  });
  for (const [what, mutate, want] of links) {
    it(`one byte changed in the ${what} fails with ${want}`, async () => {
      const i = tdxInput();
      mutate(i);
      expect(await code(verifyConfidentialVmQuote(i, { at: AT }))).toBe(want);
    });
  }
});
