// `aicert quote` evidence forms seen in the field: --signature-format plain, --ak JWK, --trust-root DER,
// --pcrs YAML, --trust-store gce, --hcl-report (Azure SNP/TDX), --snp-report (SVSM). Shared real vectors, and
// quotes made live by swtpm + tpm2-tools whose verdict tpm2_checkquote gives independently.
import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHclReport } from '../src/tpm/hcl.js';
import { snpReportFromFluoriteJson } from '../src/tpm/svsm.js';
import { hclSnpMeasurement, pinSnp, pinTdx, snpMeasurement, tdQuoteMrTd } from './helpers/cvm-pins.js';
import { runCli } from './helpers/cli.js';
import { startSwtpm, swtpmAvailable, type Swtpm } from './helpers/swtpm.js';
import { vectorsDir } from './helpers/vectors.js';

const V = vectorsDir();
const T = mkdtempSync(join(tmpdir(), 'aicert-qf-'));
afterAll(() => rmSync(T, { recursive: true, force: true }));
const put = (name: string, b: Uint8Array | string): string => {
  const p = join(T, name);
  writeFileSync(p, b);
  return p;
};
const v = (p: string): string => join(V ?? '', p);
const json = (p: string): Record<string, any> => JSON.parse(readFileSync(v(p), 'utf8'));
const NONCE_CHALLENGE = Buffer.from('challenge').toString('hex');
const AT = ['--at', '2026-01-01T00:00:00Z'];
/** hcl-report.bin goes with tpm-quote-v1.json (tpm-quote.msg/.sig are signed by a key the shared set lacks). */
const snpQuote = (): string[] => {
  const t = json('trustee/az-snp-vtpm/tpm-quote-v1.json');
  return ['--message', put('snp.msg', Buffer.from(t.message, 'hex')), '--signature', put('snp.sig', Buffer.from(t.signature, 'hex'))];
};

async function quote(args: string[]): Promise<{ code: number; doc: Record<string, any> }> {
  const r = await runCli(['quote', ...args, '--json']);
  return { code: r.code, doc: JSON.parse(r.out) };
}

describe.skipIf(!V)('shared real vectors', () => {
  it('Azure SNP CVM: --hcl-report --vcek with the plain signature verifies; the platform claims are printed', async () => {
    const args = ['--hcl-report', v('trustee/az-snp-vtpm/hcl-report.bin'), '--vcek', v('trustee/az-snp-vtpm/vcek.pem'), ...snpQuote(), '--signature-format', 'plain', '--nonce', NONCE_CHALLENGE, ...AT];
    const unpinned = await quote(args);
    expect([unpinned.code, unpinned.doc.error?.code]).toEqual([1, 'CVM_MEASUREMENT_NOT_PINNED']);
    const m = hclSnpMeasurement(new Uint8Array(readFileSync(v('trustee/az-snp-vtpm/hcl-report.bin'))));
    const r = await quote([...args, '--cvm-policy', put('snp-policy.json', JSON.stringify({ confidentialVm: pinSnp(m) }))]);
    expect(r.doc.error).toBeUndefined();
    expect(r.code).toBe(0);
    expect(r.doc.platform.type).toBe('sev-snp');
    expect(r.doc.platform.claims.product).toBe('Milan');
    expect(r.doc.platform.claims.policy.debug).toBe(false);
  });
  it('Azure SNP CVM: the tpmt default on a plain signature is malformed (exit 2), a wrong nonce exit 1', async () => {
    const base = ['--hcl-report', v('trustee/az-snp-vtpm/hcl-report.bin'), '--vcek', v('trustee/az-snp-vtpm/vcek.pem'), ...snpQuote(), ...AT];
    expect((await runCli(['quote', ...base, '--nonce', NONCE_CHALLENGE])).code).toBe(2);
    const r = await quote([...base, '--signature-format', 'plain', '--nonce', '00']);
    expect([r.code, r.doc.error?.code]).toEqual([1, 'NONCE_MISMATCH']);
  });
  it('Azure TDX CVM: --hcl-report --td-quote verifies; TCB status is reported as not checked', async () => {
    const e = json('trustee/az-tdx-vtpm/evidence-v0.json');
    const mrTd = tdQuoteMrTd(new Uint8Array(readFileSync(v('trustee/az-tdx-vtpm/td-quote.bin'))));
    const args = ['--hcl-report', v('trustee/az-tdx-vtpm/hcl-report.bin'), '--td-quote', v('trustee/az-tdx-vtpm/td-quote.bin'), '--message', put('tdx.msg', new Uint8Array(e.tpm_quote.message)), '--signature', put('tdx.sig', new Uint8Array(e.tpm_quote.signature)), '--signature-format', 'plain', '--nonce', NONCE_CHALLENGE, ...AT];
    const r = await quote([...args, '--cvm-policy', put('tdx-policy.json', JSON.stringify(pinTdx(mrTd)))]);
    expect(r.code).toBe(0);
    // The Intel root comes from the trust configuration: an AK trust root alone names none.
    const noIntel = await quote([...args, '--cvm-policy', put('tdx-policy.json', JSON.stringify(pinTdx(mrTd))), '--trust-root', v('fluorite/gcp-cvm/gcp_ak_root_ca.crt')]);
    expect([noIntel.code, noIntel.doc.error?.code]).toEqual([1, 'CERT_UNTRUSTED_ROOT']);
    expect((await quote([...args, '--cvm-policy', put('tdx-policy.json', JSON.stringify(pinTdx(mrTd))), '--trust-root', v('fluorite/gcp-cvm/gcp_ak_root_ca.crt'), '--trust-store', 'intel'])).code).toBe(0);
    expect(r.doc.platform.type).toBe('tdx');
    expect(r.doc.checks.find((c: { id: string }) => c.id === 'tdx.tcb-status').ok).toBe(null);
  });
  it('--ak JWK: HCLAkPub as a JWK file verifies the Azure vTPM quote (plain RSASSA-SHA256 inferred)', async () => {
    const hcl = parseHclReport(new Uint8Array(readFileSync(v('trustee/az-snp-vtpm/hcl-report.bin'))));
    const jwk = (hcl.claims.keys as Record<string, unknown>[]).find((k) => k.kid === 'HCLAkPub');
    const r = await quote(['--ak', put('hclak.jwk', JSON.stringify(jwk)), ...snpQuote(), '--signature-format', 'plain', '--nonce', NONCE_CHALLENGE]);
    expect(r.code).toBe(0);
    expect(r.doc.attest.ak.source).toBe('jwk');
    const bad = await quote(['--ak', put('hclek.jwk', JSON.stringify((hcl.claims.keys as Record<string, unknown>[]).find((k) => k.kid === 'HCLEkPub'))), ...snpQuote(), '--signature-format', 'plain']);
    expect([bad.code, bad.doc.error?.code]).toEqual([1, 'SIGNATURE_INVALID']);
  });

  const gce = () => {
    const j = json('fluorite/gcp-cvm/gcp_cvm_attestation_document.json');
    const b = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
    return ['--ak', put('gce-ak.der', b(j.ak_cert_chain[0])), ...j.ak_cert_chain.slice(1).flatMap((c: string, i: number) => ['--ak-chain', put(`gce-ca${i}.der`, b(c))]), '--message', put('gce.msg', b(j.quote.message)), '--signature', put('gce.sig', b(j.quote.signature)), '--nonce', '', ...AT];
  };
  it('GCE: verifies with --trust-store gce; fails without it (CERT_EKU_MISSING) and with the EKU relaxed but no Google anchor (CERT_UNTRUSTED_ROOT)', async () => {
    const ok = await quote([...gce(), '--trust-store', 'gce']);
    expect([ok.code, ok.doc.error]).toEqual([0, undefined]);
    const strict = await quote([...gce(), '--trust-root', v('fluorite/gcp-cvm/gcp_ak_root_ca.crt')]);
    expect([strict.code, strict.doc.error?.code]).toEqual([1, 'CERT_EKU_MISSING']);
    const azure = await quote([...gce(), '--no-require-aik-eku', '--trust-store', 'azure']);
    expect([azure.code, azure.doc.error?.code]).toEqual([1, 'CERT_UNTRUSTED_ROOT']);
  });
  it('--trust-root DER (the Google root as fluorite ships it) with --no-require-aik-eku verifies', async () => {
    const r = await quote([...gce(), '--trust-root', v('fluorite/gcp-cvm/gcp_ak_root_ca.crt'), '--no-require-aik-eku']);
    expect(r.code).toBe(0);
  });

  const svsm = () => {
    const j = json('fluorite/svsm/amd_sev_snp_vm_attestation_document.json');
    const b = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
    const pcrs = Object.fromEntries(Object.entries(j.quote.pcr_data.data[0][1].bank as Record<string, string>).map(([k, x]) => [k.replace('Slot', ''), x]));
    return {
      base: ['--ak', put('svsm-ak.tpmt', b(j.ak_pub_key)), '--message', put('svsm.msg', b(j.quote.message)), '--signature', put('svsm.sig', b(j.quote.signature)), '--pcrs', put('svsm-pcrs.json', JSON.stringify({ sha256: pcrs }))],
      snp: ['--snp-report', put('svsm-report.bin', snpReportFromFluoriteJson(j.attestation_report)), '--vcek', put('svsm-vcek.der', b(j.sev_cert_chain.vek_der)), '--vcek-chain', put('svsm-ask.der', b(j.sev_cert_chain.ask_der)), '--nonce', Buffer.from(b(j.nonce)).toString('hex'), '--at', '2026-11-01T00:00:00Z'],
    };
  };
  it('SVSM: the non-restricted AK is refused by default, accepted with --allow-unrestricted-ak or through --snp-report', async () => {
    const s = svsm();
    const def = await quote(s.base);
    expect([def.code, def.doc.error?.code]).toEqual([1, 'AK_NOT_RESTRICTED_SIGNING']);
    expect((await quote([...s.base, '--allow-unrestricted-ak'])).code).toBe(0);
    const unpinned = await quote([...s.base, ...s.snp]);
    expect([unpinned.code, unpinned.doc.error?.code]).toEqual([1, 'CVM_MEASUREMENT_NOT_PINNED']);
    const pin = put('svsm-policy.json', JSON.stringify(pinSnp(snpMeasurement(snpReportFromFluoriteJson(json('fluorite/svsm/amd_sev_snp_vm_attestation_document.json').attestation_report)))));
    const bound = await quote([...s.base, ...s.snp, '--cvm-policy', pin]);
    expect([bound.code, bound.doc.platform?.claims.product]).toEqual([0, 'Genoa']);
    const wrongNonce = await quote([...s.base, ...s.snp.slice(0, -4), '--nonce', '00'.repeat(64), '--at', '2026-11-01T00:00:00Z']);
    expect([wrongNonce.code, wrongNonce.doc.error?.code]).toEqual([1, 'SNP_REPORT_BINDING_MISMATCH']);
  });
});

describe('committed swtpm vectors: --pcrs YAML', () => {
  const q = join(import.meta.dirname, '..', 'testvectors', 'quote');
  const nonce = readFileSync(join(q, 'ak-rsa', 'nonce.hex'), 'utf8').trim();
  it('tpm2_pcrread YAML verifies like the serialized PCR file (no "trailing bytes" fallback)', async () => {
    const r = await quote(['--ak', join(q, 'ak-rsa', 'ak.pub'), '--message', join(q, 'ak-rsa', 'quote.msg'), '--signature', join(q, 'ak-rsa', 'quote.sig'), '--pcrs', join(q, 'pcrread.yaml'), '--nonce', nonce]);
    expect([r.code, r.doc.error]).toEqual([0, undefined]);
    expect(r.doc.checks.find((c: { id: string }) => c.id === 'pcrs.digest').ok).toBe(true);
  });
  it('--trust-root DER (the openssl-made test root) verifies like its PEM; the untrusted root in DER fails', async () => {
    const base = ['--ak', join(q, 'ak-rsa', 'ak.crt.der'), '--ak-chain', join(q, 'ak-rsa', 'intermediate.der'), '--message', join(q, 'ak-rsa', 'quote.msg'), '--signature', join(q, 'ak-rsa', 'quote.sig'), '--nonce', nonce];
    for (const root of ['root.der', 'root.pem']) {
      const r = await quote([...base, '--trust-root', join(q, 'ca', root)]);
      expect([root, r.code, r.doc.error]).toEqual([root, 0, undefined]);
    }
    const bad = await quote([...base, '--trust-root', join(q, 'ca', 'untrusted-root.der')]);
    expect([bad.code, bad.doc.error?.code]).toEqual([1, 'CERT_UNTRUSTED_ROOT']);
  });
  it('aicert-verify --trust-store: the gce store alone does not trust the test CA; with its root as well the chain passes', async () => {
    const doc = resolve(import.meta.dirname, '..', 'testvectors', 'aibom', 'aibom.json');
    const at = JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'testvectors', 'aibom', 'manifest.json'), 'utf8')).generated_at as string;
    const ak = async (extra: string[]) => JSON.parse((await runCli(['verify', doc, '--at', at, '--json', ...extra])).out).checks.find((c: { id: string }) => c.id === 'ak.certificate');
    expect((await ak(['--trust-store', 'gce'])).ok).toBe(false);
    expect((await ak(['--trust-store', 'gce', '--trust-root', resolve(import.meta.dirname, '..', 'testvectors', 'aibom', 'ca', 'root.pem')])).ok).toBe(true);
  });
  it('a YAML value changed by one digit fails PCR_DIGEST_MISMATCH; a truncated one is padded as tpm2-tools prints it', async () => {
    const y = readFileSync(join(q, 'pcrread.yaml'), 'utf8');
    const bad = y.replace(/(\n\s+8 : 0x)(.)/, (_m, a: string, c: string) => a + (c === '1' ? '2' : '1'));
    const r = await quote(['--ak', join(q, 'ak-rsa', 'ak.pub'), '--message', join(q, 'ak-rsa', 'quote.msg'), '--signature', join(q, 'ak-rsa', 'quote.sig'), '--pcrs', put('bad.yaml', bad)]);
    expect([r.code, r.doc.error?.code]).toEqual([1, 'PCR_DIGEST_MISMATCH']);
    const short = y.replace(/(\n\s+0 : 0x)0+/, '$10');
    expect((await quote(['--ak', join(q, 'ak-rsa', 'ak.pub'), '--message', join(q, 'ak-rsa', 'quote.msg'), '--signature', join(q, 'ak-rsa', 'quote.sig'), '--pcrs', put('short.yaml', short)])).code).toBe(0);
  });
});

const run = promisify(execFile);
describe.skipIf(!swtpmAvailable())('live swtpm: tpm2_quote -f plain, tpm2_checkquote -F plain as the oracle', () => {
  let tpm: Swtpm;
  const D = mkdtempSync(join(tmpdir(), 'aicert-plain-'));
  beforeAll(async () => {
    tpm = await startSwtpm();
    const t = (args: string[]) => run(args[0]!, args.slice(1), { env: tpm.env, cwd: D });
    await t(['tpm2_createek', '-c', 'ek.ctx', '-G', 'rsa', '-u', 'ek.pub']);
    await t(['tpm2_flushcontext', '-t']);
    // Non-trivial PCR values, then tpm2_pcrread's YAML of the PCRs the quotes cover.
    await t(['tpm2_pcrextend', `16:sha256=${'5a'.repeat(32)}`]);
    await t(['tpm2_pcrextend', `2:sha256=${'0f'.repeat(32)}`]);
    await run('sh', ['-c', 'tpm2_pcrread sha256:0,1,2,16 > pcrread.yaml'], { env: tpm.env, cwd: D });
    for (const [k, g, s] of [['rsa', 'rsa', 'rsassa'], ['ecc', 'ecc', 'ecdsa']] as const) {
      await t(['tpm2_createak', '-C', 'ek.ctx', '-c', `${k}.ctx`, '-G', g, '-g', 'sha256', '-s', s, '-u', `${k}.pub`, '-f', 'pem', '-n', `${k}.name`]);
      await t(['tpm2_flushcontext', '-t']);
      await t(['tpm2_flushcontext', '-s']);
      await run('sh', ['-c', `tpm2_quote -c ${k}.ctx -l sha256:0,1,2,16 -q 0a0b0c -m ${k}.msg -s ${k}.sig -o ${k}.pcrs -f plain -g sha256 > ${k}.yaml`], { env: tpm.env, cwd: D });
      await t(['tpm2_flushcontext', '-t']);
    }
  }, 60_000);
  afterAll(async () => {
    await tpm?.stop();
    rmSync(D, { recursive: true, force: true });
  });
  for (const k of ['rsa', 'ecc']) {
    it(`${k}: aicert agrees with tpm2_checkquote -F plain, with the PEM key, its JWK and the tpm2_quote YAML`, async () => {
      const f = (x: string) => join(D, `${k}.${x}`);
      const oracle = await run('tpm2_checkquote', ['-u', f('pub'), '-m', f('msg'), '-s', f('sig'), '-F', 'plain', '-f', f('pcrs'), '-g', 'sha256', '-q', '0a0b0c'], { env: tpm.env }).then(() => 0, () => 1);
      expect(oracle).toBe(0);
      const jwk = put(`${k}.jwk`, JSON.stringify(createPublicKey(readFileSync(f('pub'))).export({ format: 'jwk' })));
      for (const ak of [f('pub'), jwk]) {
        const r = await quote(['--ak', ak, '--message', f('msg'), '--signature', f('sig'), '--signature-format', 'plain', '--pcrs', f('yaml'), '--nonce', '0a0b0c']);
        expect([r.code, r.doc.error]).toEqual([0, undefined]);
      }
      // One byte of the plain signature changed: both refuse.
      const sig = new Uint8Array(readFileSync(f('sig')));
      sig[sig.length - 3]! ^= 1;
      const bad = put(`${k}-bad.sig`, sig);
      const oracleBad = await run('tpm2_checkquote', ['-u', f('pub'), '-m', f('msg'), '-s', bad, '-F', 'plain', '-g', 'sha256', '-q', '0a0b0c'], { env: tpm.env }).then(() => 0, () => 1);
      const r = await quote(['--ak', f('pub'), '--message', f('msg'), '--signature', bad, '--signature-format', 'plain']);
      expect([oracleBad, r.code]).toEqual([1, r.doc.error?.code === 'SIGNATURE_INVALID' ? 1 : 2]);
    }, 30_000);
    it(`${k}: tpm2_pcrread YAML made by swtpm verifies the same quote; one digit of PCR 16 changed fails PCR_DIGEST_MISMATCH`, async () => {
      const f = (x: string) => join(D, `${k}.${x}`);
      const yaml = readFileSync(join(D, 'pcrread.yaml'), 'utf8');
      expect(yaml).toMatch(/sha256:\n\s+0 : 0x0{64}\n/);
      const ok = await quote(['--ak', f('pub'), '--message', f('msg'), '--signature', f('sig'), '--signature-format', 'plain', '--pcrs', join(D, 'pcrread.yaml'), '--nonce', '0a0b0c']);
      expect([ok.code, ok.doc.error, ok.doc.checks.find((c: { id: string }) => c.id === 'pcrs.digest').ok]).toEqual([0, undefined, true]);
      const bad = yaml.replace(/(\n\s+16 ?: 0x)(.)/, (_m, a: string, c: string) => a + (c === '1' ? '2' : '1'));
      expect(bad).not.toBe(yaml);
      const r = await quote(['--ak', f('pub'), '--message', f('msg'), '--signature', f('sig'), '--signature-format', 'plain', '--pcrs', put(`${k}-bad-pcrread.yaml`, bad)]);
      expect([r.code, r.doc.error?.code]).toEqual([1, 'PCR_DIGEST_MISMATCH']);
    });
  }
});
