/**
 * The embedded Azure vTPM trust store and real third-party AK certificates (GCE, from go-tpm-tools).
 * Expected verdicts for the Azure intermediates are openssl's (recorded by testvectors/certs/gen.sh).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseCertificates, verifyAkChain, verifyCaCertificate } from '../src/tpm/akcert.js';
import { AZURE_VTPM_INTERMEDIATES, AZURE_VTPM_ROOTS } from '../src/tpm/trust-azure.js';
import { vectorsDir } from './helpers/vectors.js';
import { outcome } from './helpers/outcome.js';

const DIR = resolve(import.meta.dirname, '../testvectors/certs');
const manifest = JSON.parse(readFileSync(`${DIR}/manifest.json`, 'utf8')) as {
  at: string;
  azure: { cert: 'ca01' | 'ca03'; at: string; openssl: string }[];
};
const CA03 = AZURE_VTPM_INTERMEDIATES.find((p) => verifySubject(p, 'Global Virtual TPM CA - 03'))!;
const CA01 = AZURE_VTPM_INTERMEDIATES.find((p) => verifySubject(p, 'Global Virtual TPM CA - 01'))!;
function verifySubject(pemText: string, cn: string): boolean {
  return Buffer.from(parseCertificates(pemText)[0]!).includes(Buffer.from(cn));
}

const code = (p: Promise<unknown>): Promise<string> => outcome(p, 'valid');

describe('embedded Azure vTPM store', () => {
  const shared = resolve(import.meta.dirname, '../../shared/certs/azure');
  if (!existsSync(shared)) console.warn(`NOTICE: ${shared} not found; the embedded-store byte comparison is skipped.`);
  test.skipIf(!existsSync(shared))('embedded PEMs are byte-identical to ../shared/certs/azure', () => {
    const files = ['azure-virtual-tpm-root-ca-2023', 'global-virtual-tpm-ca-03', 'global-virtual-tpm-ca-01'];
    const ders = files.map((f) => Buffer.from(parseCertificates(readFileSync(`${shared}/${f}.pem`, 'utf8'))[0]!));
    const embedded = [...AZURE_VTPM_ROOTS, ...AZURE_VTPM_INTERMEDIATES].map((p) => Buffer.from(parseCertificates(p)[0]!));
    expect(embedded.map((d) => d.toString('hex'))).toEqual(ders.map((d) => d.toString('hex')));
  });

  test('published fingerprints', async () => {
    const path = await verifyCaCertificate(CA03, { at: new Date('2026-06-01T00:00:00Z') });
    // SHA-256 fingerprints from ../shared/reference/azure-and-atls.md (root E6:C5:…:0E:95, CA-03 FD:7C:…:A2:9C).
    expect(path[0]!.sha256.slice(0, 4)).toBe('fd7c');
    expect(path[0]!.sha256.endsWith('a29c')).toBe(true);
    expect(path[1]!.sha256).toBe('e6c596b17f8ffefba5c300f714cfb1260c6028704ecf7becc4ab5018efb00e95');
    expect(path[1]!.subject).toBe('C=US, O=Microsoft Corporation, CN=Azure Virtual TPM Root Certificate Authority 2023');
    expect(path[0]!.serialHex).toBe('33000000092740e5ac727b0ea6000000000009');
  });

  test('manifest records openssl verdicts for the Azure intermediates', () => {
    expect(manifest.azure.length).toBe(4);
  });
  test.each(manifest.azure.map((a) => [`${a.cert} at ${a.at}`, a] as const))('%s agrees with openssl', async (_n, a) => {
    const got = await code(verifyCaCertificate(a.cert === 'ca03' ? CA03 : CA01, { at: new Date(a.at) }));
    expect(got === 'valid').toBe(a.openssl === 'valid');
    if (a.openssl.includes('expired')) expect(got).toBe('CERT_EXPIRED');
  });

  test('CA-01 is rejected as expired after 2025-11-03; CA-03 before its notBefore is not yet valid', async () => {
    expect(await code(verifyCaCertificate(CA01, { at: new Date('2025-11-03T17:53:05Z') }))).toBe('CERT_EXPIRED');
    expect(await code(verifyCaCertificate(CA01, { at: new Date('2025-11-03T17:53:04Z') }))).toBe('valid');
    expect(await code(verifyCaCertificate(CA03, { at: new Date('2025-04-24T18:01:16Z') }))).toBe('CERT_NOT_YET_VALID');
  });

  test('an intermediate given as the AK certificate is refused (a CA is not an AK)', async () => {
    expect(await code(verifyAkChain(CA03, { at: new Date('2026-06-01T00:00:00Z') }))).toBe('CERT_CONSTRAINTS_INVALID');
  });

  test('a test leaf cannot borrow the Azure root: the default anchors refuse other hierarchies', async () => {
    const leaf = readFileSync(`${DIR}/ak-azure-like.pem`, 'utf8');
    const int = readFileSync(`${DIR}/int-rsa.pem`, 'utf8');
    expect(await code(verifyAkChain([leaf, int], { at: new Date(manifest.at) }))).toBe('CERT_UNTRUSTED_ROOT');
  });

  test('Azure-style leaf under a test root: no platform claim from the CN alone (only an embedded Azure root gives one)', async () => {
    const leaf = readFileSync(`${DIR}/ak-azure-like.pem`, 'utf8');
    const r = await verifyAkChain([leaf, readFileSync(`${DIR}/int-rsa.der`)], {
      trustAnchors: [readFileSync(`${DIR}/root-rsa.pem`, 'utf8')],
      at: new Date(manifest.at),
    });
    expect(r.leaf.subject).toMatch(/0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0\.TrustedVM\.Azure\.Microsoft/);
    expect(r.leaf.platform).toBeUndefined();
  });
});

describe('GCE AK certificates (go-tpm-tools vectors)', () => {
  const dir = vectorsDir();
  const read = (n: string) => readFileSync(`${dir}/go-tpm-tools/${n}.pem`, 'utf8');
  test.skipIf(!dir)('uca AK cert: EKU 2.23.133.8.1, empty subject, critical directoryName SAN; untrusted without its root', async () => {
    for (const n of ['uca_tpm_rsa_sign_cert', 'uca_tpm_ecc_sign_cert']) {
      const pem = read(n);
      expect(parseCertificates(pem)).toHaveLength(1);
      // Leaf rules run first, so reaching CERT_UNTRUSTED_ROOT shows the EKU and the critical SAN were accepted.
      expect(await code(verifyAkChain(pem))).toBe('CERT_UNTRUSTED_ROOT');
      expect(await code(verifyAkChain(pem, { trustAnchors: [read('pca_tpm_rsa_sign_cert')] }))).toBe('CERT_UNTRUSTED_ROOT');
      // Pinned directly as the anchor, the leaf validates and its details are reported (values from `openssl x509 -text`).
      const r = await verifyAkChain(pem, { trustAnchors: [pem], at: new Date('2024-01-01T00:00:00Z') });
      expect(r.leaf.subject).toBe('');
      expect(r.leaf.eku).toEqual(['2.23.133.8.1']);
      expect(r.leaf.sanDirectoryName).toBe('2.23.133.2.1=id:474F4F47, 2.23.133.2.2=vTPM, 2.23.133.2.3=id:20160511');
      expect(r.path).toHaveLength(1);
      expect(r.leaf.issuer).toContain('CN=tpm_ek_v1_cloud_host-signer-0-2021-10-12T04:22:11-07:00 K:1\\, 3:nbvaGZFLcuc:0:18');
    }
  });
  test.skipIf(!dir)('pca AK cert without EKU: CERT_EKU_MISSING unless relaxed', async () => {
    const pem = read('pca_tpm_rsa_sign_cert');
    expect(await code(verifyAkChain(pem))).toBe('CERT_EKU_MISSING');
    expect(await code(verifyAkChain(pem, { requireAikEku: false }))).toBe('CERT_UNTRUSTED_ROOT');
  });
  test.skipIf(!dir)('encryption certificates (keyUsage keyAgreement/keyEncipherment) are not AK certificates', async () => {
    for (const n of ['uca_tpm_ecc_enc_cert', 'uca_tpm_rsa_enc_cert']) {
      expect(await code(verifyAkChain(read(n)))).toBe('CERT_CONSTRAINTS_INVALID');
    }
  });
});
