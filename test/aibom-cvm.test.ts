// AIBOM v1 confidential-VM evidence (evidence.cvm): the platform step on Azure's real SEV-SNP and TDX evidence.
// The shared quotes were made for trustee's "challenge", not for an AIBOM statement, so a genuine document ends at
// binding.quote (BINDING_MISMATCH) after every hardware and quote check passed; a changed byte fails earlier.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAibom } from '../src/aibom/verify.js';
import { aibomToCbor } from '../src/aibom/v1.js';
import { runCli } from './helpers/cli.js';
import { hclSnpMeasurement, pinSnp, pinTdx, tdQuoteMrTd } from './helpers/cvm-pins.js';
import { vectorsDir } from './helpers/vectors.js';

const V = vectorsDir();
const AT = new Date('2026-01-01T00:00:00Z');
const base = (): Record<string, any> => JSON.parse(readFileSync(resolve(import.meta.dirname, '../testvectors/aibom/aibom.json'), 'utf8'));
const b64 = (b: Uint8Array | number[]): string => Buffer.from(b as Uint8Array).toString('base64');

function snpDoc(mutate?: (hcl: Uint8Array) => void): Record<string, any> {
  const e = JSON.parse(readFileSync(join(V!, 'trustee/az-snp-vtpm/evidence-v0.json'), 'utf8'));
  const hcl = new Uint8Array(e.report);
  mutate?.(hcl);
  const doc = base();
  const pcrs = Object.fromEntries((e.quote.pcrs as number[][]).map((p, i) => [String(i), Buffer.from(p).toString('hex')]));
  doc.evidence.tpm = { attest: b64(e.quote.message), signature: b64(Buffer.concat([Buffer.from([0, 0x14, 0, 0x0b, 1, 0]), Buffer.from(e.quote.signature)])), pcrs: { sha256: pcrs } };
  doc.evidence.cvm = { hclReport: b64(hcl), vcek: e.vcek };
  return doc;
}

function tdxDoc(): Record<string, any> {
  const e = JSON.parse(readFileSync(join(V!, 'trustee/az-tdx-vtpm/evidence-v0.json'), 'utf8'));
  const doc = base();
  const sig = Buffer.from(e.tpm_quote.signature);
  doc.evidence.tpm = { attest: b64(e.tpm_quote.message), signature: b64(Buffer.concat([Buffer.from([0, 0x14, 0, 0x0b, sig.length >> 8, sig.length & 0xff]), sig])), pcrs: { sha256: Object.fromEntries((e.tpm_quote.pcrs as number[][]).map((p, i) => [String(i), Buffer.from(p).toString('hex')])) } };
  doc.evidence.cvm = { hclReport: b64(e.hcl_report), tdQuote: b64(e.td_quote) };
  return doc;
}

/** The policy pinning the launch measurement of a document's evidence (read from its bytes). */
const snpPin = (doc: Record<string, any>) => ({ confidentialVm: pinSnp(hclSnpMeasurement(Buffer.from(doc.evidence.cvm.hclReport, 'base64'))) });
const tdxPin = (doc: Record<string, any>) => ({ confidentialVm: pinTdx(tdQuoteMrTd(Buffer.from(doc.evidence.cvm.tdQuote, 'base64'))) });

const ids = (r: Awaited<ReturnType<typeof verifyAibom>>) => Object.fromEntries(r.checks.map((c) => [c.id, c.ok]));

describe.skipIf(!V)('AIBOM v1 evidence.cvm', () => {
  it('SEV-SNP: AMD chain, report, runtime data, HCLAkPub and the quote pass; the statement binding is then checked', async () => {
    const doc = snpDoc();
    const r = await verifyAibom(JSON.stringify(doc), { at: AT, policy: snpPin(doc) });
    const c = ids(r);
    for (const id of ['policy.confidentialVm.measurement', 'cvm.snp.vmpl', 'cvm.snp.vcek.chain', 'cvm.snp.vcek.tcb', 'cvm.snp.report.signature', 'cvm.snp.policy.debug', 'cvm.runtime-data', 'cvm.ak', 'quote.signature', 'quote.pcrs.digest', 'ak.binding']) expect(c[id], id).toBe(true);
    expect(r.error?.code).toBe('BINDING_MISMATCH');
    expect(r.claims.platform?.description).toBe('Azure confidential VM (AMD SEV-SNP, Milan)');
    expect((r.claims.platform?.hardware as Record<string, unknown>).measurement).toMatch(/^[0-9a-f]{96}$/);
  });
  it('aicert-verify reads it: exit 1 with the failing check\'s code, the hardware checks passed, claims shown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aicert-cvm-'));
    try {
      const d = snpDoc();
      writeFileSync(join(dir, 'aibom.json'), JSON.stringify(d));
      writeFileSync(join(dir, 'policy.json'), JSON.stringify(snpPin(d)));
      const r = await runCli(['verify', join(dir, 'aibom.json'), '--at', AT.toISOString(), '--policy', join(dir, 'policy.json'), '--json']);
      const doc = JSON.parse(r.out);
      expect(r.code).toBe(1);
      expect(doc.valid).toBe(false);
      expect(doc.checks.filter((c: { ok: boolean | null }) => c.ok === false).map((c: { id: string }) => c.id)).toEqual(['binding.quote']);
      expect(doc.checks.find((c: { id: string }) => c.id === 'cvm.snp.report.signature').ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('the CBOR encoding carries the same evidence', async () => {
    const r = await verifyAibom(aibomToCbor(snpDoc()), { at: AT });
    expect(ids(r)['cvm.ak']).toBe(true);
  });
  it('one byte of the runtime data or the SNP report fails with its own code', async () => {
    const rt = await verifyAibom(JSON.stringify(snpDoc((h) => { h[32 + 1184 + 20 + 1100]! ^= 1; })), { at: AT });
    expect(rt.error?.code).toBe('HCL_RUNTIME_DATA_MISMATCH');
    const rep = await verifyAibom(JSON.stringify(snpDoc((h) => { h[32 + 0x90]! ^= 1; })), { at: AT });
    expect(rep.error?.code).toBe('SNP_REPORT_SIGNATURE_INVALID');
  });
  it('a confidentialVm policy pins the measurement: a different one is refused (CVM_POLICY_MISMATCH)', async () => {
    const policy = { confidentialVm: { platforms: ['sev-snp'], snp: { measurement: ['00'.repeat(48)], products: ['Milan'] } } };
    const r = await verifyAibom(JSON.stringify(snpDoc()), { at: AT, policy });
    expect(r.error?.code).toBe('CVM_POLICY_MISMATCH');
    const d = snpDoc();
    const m = snpPin(d).confidentialVm.snp.measurement;
    const ok = await verifyAibom(JSON.stringify(d), { at: AT, policy: { confidentialVm: { snp: { measurement: m, minTcb: { snp: 0 }, vmpl: [0] } } } });
    expect(ids(ok)['policy.confidentialVm']).toBe(true);
    const low = await verifyAibom(JSON.stringify(d), { at: AT, policy: { confidentialVm: { snp: { measurement: m, minTcb: { snp: 255 } } } } });
    expect(low.error?.code).toBe('CVM_POLICY_MISMATCH');
  });
  it('without a pinned launch measurement the genuine evidence is NOT VALID (CVM_MEASUREMENT_NOT_PINNED), said in plain words', async () => {
    const r = await verifyAibom(JSON.stringify(snpDoc()), { at: AT });
    expect([r.valid, r.error?.code]).toEqual([false, 'CVM_MEASUREMENT_NOT_PINNED']);
    expect(r.error?.message).toMatch(/own firmware and paravisor/);
    const t = await verifyAibom(JSON.stringify(tdxDoc()), { at: AT });
    expect(t.error?.code).toBe('CVM_MEASUREMENT_NOT_PINNED');
  });
  it('AMD/Intel roots come from the trust configuration: an AK --trust-root alone trusts no hardware root', async () => {
    const d = snpDoc();
    const gce = readFileSync(join(V!, 'fluorite/gcp-cvm/gcp_ak_root_ca.crt'));
    const r = await verifyAibom(JSON.stringify(d), { at: AT, policy: snpPin(d), trustAnchors: [new Uint8Array(gce)] });
    expect(r.error?.code).toBe('CERT_UNTRUSTED_ROOT');
    const named = await verifyAibom(JSON.stringify(d), { at: AT, policy: snpPin(d), trustAnchors: [new Uint8Array(gce)], amdRoots: (await import('../src/tpm/trust-amd.js')).AMD_SEV_ROOTS });
    expect(named.error?.code).toBe('BINDING_MISMATCH');
  });
  it('TDX: PCK chain, QE binding, TD quote, TDREPORT match, runtime data, HCLAkPub; TCB status not checked', async () => {
    const doc = tdxDoc();
    const r = await verifyAibom(JSON.stringify(doc), { at: AT, policy: tdxPin(doc) });
    const c = ids(r);
    for (const id of ['cvm.tdx.pck.chain', 'cvm.tdx.qe-report.signature', 'cvm.tdx.qe-identity', 'cvm.tdx.debug', 'policy.confidentialVm.measurement', 'cvm.tdx.qe-report.binding', 'cvm.tdx.quote.signature', 'cvm.tdx.report.match', 'cvm.runtime-data', 'cvm.ak', 'quote.signature']) expect(c[id], id).toBe(true);
    expect(c['cvm.tdx.tcb-status']).toBe(null);
    expect(r.error?.code).toBe('BINDING_MISMATCH');
  });
});
