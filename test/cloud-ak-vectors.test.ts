// GCE AK certificates without an EKU (fluorite gcp-cvm) and the SVSM e-vTPM's non-restricted AK bound by the
// SEV-SNP report (fluorite svsm): verdicts as the origin's tests give them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAkQuote } from '../src/tpm/ak-quote.js';
import { snpReportFromFluoriteJson, verifySnpBoundQuote } from '../src/tpm/svsm.js';
import { verifyQuote } from '../src/tpm/quote.js';
import { trustStore } from '../src/tpm/trust-stores.js';
import { pinSnp, snpMeasurement } from './helpers/cvm-pins.js';
import { vectorsDir } from './helpers/vectors.js';
import { outcome } from './helpers/outcome.js';

const V = vectorsDir();
const d = describe.skipIf(!V);
const json = (p: string): Record<string, any> => JSON.parse(readFileSync(join(V ?? '', p), 'utf8'));
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const AT = new Date('2026-01-01T00:00:00Z');
const AT_SVSM = new Date('2026-11-01T00:00:00Z');

const code = (p: Promise<unknown>): Promise<string> => outcome(p, 'ok');

/** fluorite's pcr_data `{data: [["Sha256", {bank: {SlotN: hex}}]]}` as a JSON PCR map. */
function pcrs(pd: Record<string, any>): Record<string, Record<string, string>> {
  return Object.fromEntries((pd.data as [string, { bank: Record<string, string> }][]).map(([alg, { bank }]) => [alg.toLowerCase(), Object.fromEntries(Object.entries(bank).map(([k, v]) => [k.replace('Slot', ''), v]))]));
}

d('GCE confidential VM AK chain (fluorite gcp-cvm)', () => {
  const doc = () => json('fluorite/gcp-cvm/gcp_cvm_attestation_document.json');
  const input = () => {
    const j = doc();
    return { attest: b64(j.quote.message), signature: b64(j.quote.signature), akPublic: b64(j.ak_cert_chain[0]), akCertificates: j.ak_cert_chain.map(b64), nonce: new Uint8Array(), ...(j.quote.pcr_data ? { pcrs: pcrs(j.quote.pcr_data) } : {}) };
  };
  it('verifies with the gce store (its anchor accepts a leaf without EKU)', async () => {
    const v = await verifyAkQuote(input(), { at: AT, anchorRules: trustStore('gce') });
    expect(v.chain.anchor.subject).toContain('EK/AK CA Root');
    expect(v.chain.warnings.join(' ')).toMatch(/no EKU extension/);
  });
  it('fails without it: strict EKU first, and the default Azure store does not know the Google root', async () => {
    expect(await code(verifyAkQuote(input(), { at: AT }))).toBe('CERT_EKU_MISSING');
    expect(await code(verifyAkQuote(input(), { at: AT, requireAikEku: false }))).toBe('CERT_UNTRUSTED_ROOT');
  });
  it('the Google root as a plain --trust-root keeps the strict EKU default (CERT_EKU_MISSING)', async () => {
    expect(await code(verifyAkQuote(input(), { at: AT, trustAnchors: [new Uint8Array(readFileSync(join(V!, 'fluorite/gcp-cvm/gcp_ak_root_ca.crt')))] }))).toBe('CERT_EKU_MISSING');
  });
  it('mixing stores never relaxes Azure: the Azure anchors still require the EKU; gce + azure verifies the GCE leaf', async () => {
    const v = await verifyAkQuote(input(), { at: AT, anchorRules: [...trustStore('azure'), ...trustStore('gce')] });
    expect(v.chain.anchor.subject).toContain('Google');
  });
});

d('SVSM e-vTPM on SEV-SNP Genoa (fluorite svsm)', () => {
  const doc = () => json('fluorite/svsm/amd_sev_snp_vm_attestation_document.json');
  const input = () => {
    const j = doc();
    const c = j.sev_cert_chain;
    return {
      snpReport: snpReportFromFluoriteJson(j.attestation_report),
      vcek: b64(c.vek_der),
      vcekChain: [b64(c.ask_der)],
      akPublic: b64(j.ak_pub_key),
      attest: b64(j.quote.message),
      signature: b64(j.quote.signature),
      pcrs: pcrs(j.quote.pcr_data),
      nonce: b64(j.nonce),
    };
  };
  it('the quote alone is refused: the AK is not restricted', async () => {
    const i = input();
    expect(await code(verifyQuote({ attest: i.attest, signature: i.signature, akPublic: i.akPublic, pcrs: i.pcrs }))).toBe('AK_NOT_RESTRICTED_SIGNING');
  });
  it('verifies with the explicit flag (requireRestricted: false)', async () => {
    const i = input();
    const v = await verifyQuote({ attest: i.attest, signature: i.signature, akPublic: i.akPublic, pcrs: i.pcrs }, { requireRestricted: false });
    expect(v.checks.find((c) => c.id === 'ak.attributes')?.ok).toBe(null);
  });
  it('verifies without the flag through the SNP binding: Genoa chain, report signature, SHA-512(nonce ‖ AK)', async () => {
    const i = input();
    expect(await code(verifySnpBoundQuote(i, { at: AT_SVSM }))).toBe('CVM_MEASUREMENT_NOT_PINNED');
    const v = await verifySnpBoundQuote(i, { at: AT_SVSM, rules: pinSnp(snpMeasurement(i.snpReport)) });
    expect(v.claims.product).toBe('Genoa');
    expect(v.complete).toBe(true);
    expect(v.checks.find((c) => c.id === 'snp.ak-binding')?.ok).toBe(true);
  });
  const links: [string, (i: ReturnType<typeof input>) => void, string][] = [
    ['nonce', (i) => { i.nonce[0]! ^= 1; }, 'SNP_REPORT_BINDING_MISMATCH'],
    ['AK public area', (i) => { i.akPublic[i.akPublic.length - 1]! ^= 1; }, 'SNP_REPORT_BINDING_MISMATCH'],
    ['report measurement', (i) => { i.snpReport[0x90]! ^= 1; }, 'SNP_REPORT_SIGNATURE_INVALID'],
    ['VCEK signature', (i) => { i.vcek[i.vcek.length - 5]! ^= 1; }, 'CERT_SIGNATURE_INVALID'],
    ['quote', (i) => { i.attest[i.attest.length - 1]! ^= 1; }, 'SIGNATURE_INVALID'],
  ];
  for (const [what, mutate, want] of links) {
    it(`one byte changed in the ${what} fails with ${want}`, async () => {
      const i = input();
      mutate(i);
      expect(await code(verifySnpBoundQuote(i, { at: AT_SVSM }))).toBe(want);
    });
  }
});
