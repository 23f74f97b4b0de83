/**
 * RSA key attacks (spec/verification.md §2a, spec/ak-certificates.md §Signatures): a public exponent of 1 makes every
 * PKCS#1 v1.5 encoded message its own signature, so with such a key a quote or a certificate is "signed" without any
 * private key; and an RSA-1024 intermediate on a certificate path. The CAs are made by openssl at test time (which
 * also signs a certificate for an e = 1 key without complaint); `openssl verify -auth_level 2` is the size oracle.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { verifyAkChain } from '../src/tpm/akcert.js';
import { makeCredential } from '../src/tpm/credential.js';
import { verifyQuote } from '../src/tpm/quote.js';
import { outcome } from './helpers/outcome.js';

const Q = resolve(import.meta.dirname, '../testvectors/quote');
const AK_PUB = join(Q, 'ak-rsa/ak.pem');
const have = spawnSync('openssl', ['version']).status === 0;
if (!have) console.warn('NOTICE: openssl not on PATH; RSA key attack tests skipped.');

const EXT = `
[root]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[int]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
[ak]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=2.23.133.8.3
authorityKeyIdentifier=none
subjectKeyIdentifier=none
`;

const code = (p: Promise<unknown>): Promise<string> => outcome(p, 'valid');

/** DER TLV with a definite length. */
const tlv = (tag: number, body: Buffer): Buffer => {
  const l = body.length;
  const len = l < 128 ? Buffer.from([l]) : l < 256 ? Buffer.from([0x81, l]) : Buffer.from([0x82, l >> 8, l & 255]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
};
/** A 2048-bit modulus (of a fresh key) with public exponent 1, as SubjectPublicKeyInfo DER. */
function e1Spki(): { spki: Buffer; n: Buffer } {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const n = Buffer.from(jwk.n!, 'base64url');
  const rsa = tlv(0x30, Buffer.concat([tlv(2, Buffer.concat([Buffer.from([0]), n])), tlv(2, Buffer.from([1]))]));
  return { n, spki: tlv(0x30, Buffer.concat([Buffer.from('300d06092a864886f70d0101010500', 'hex'), tlv(3, Buffer.concat([Buffer.from([0]), rsa]))])) };
}
/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of `msg` with SHA-256 for a `k`-byte modulus: with e = 1, this IS the signature. */
function em(msg: Uint8Array, k: number): Buffer {
  const t = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(msg).digest()]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]);
}
const pemOf = (label: string, der: Buffer): string => `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;

describe('RSA public exponent 1: signatures without a private key', () => {
  test('a quote "signed" by an e = 1 AK (the signature is the padded attest itself) is refused (was: valid)', async () => {
    const { spki, n } = e1Spki();
    const attest = new Uint8Array(readFileSync(join(Q, 'ak-rsa/quote.msg')));
    // TPMT_SIGNATURE: TPM_ALG_RSASSA, TPM_ALG_SHA256, TPM2B of the forged signature.
    const sig = Buffer.concat([Buffer.from([0x00, 0x14, 0x00, 0x0b, 0x01, 0x00]), em(attest, n.length)]);
    const input = { attest, signature: new Uint8Array(sig), akPublic: pemOf('PUBLIC KEY', spki), pcrs: new Uint8Array(readFileSync(join(Q, 'ak-rsa/quote.pcrs'))) };
    expect(await code(verifyQuote(input))).toBe('KEY_EXPONENT_INVALID');
  });
});

describe('RSA public exponent 1 on an EK: a credential anyone could open', () => {
  test('makeCredential refuses an e = 1 EK (was: made; RSA-OAEP with e = 1 leaves the encoded seed in the clear)', async () => {
    const { n } = e1Spki();
    const u16 = (v: number) => Buffer.from([v >> 8, v & 255]);
    // TPMT_PUBLIC in the EK template shape: RSA, SHA-256, restricted|decrypt|fixedTPM…, AES-128-CFB, exponent 1.
    const ek = Buffer.concat([u16(0x0001), u16(0x000b), Buffer.from('000300b2', 'hex'), u16(32), Buffer.alloc(32), u16(0x0006), u16(128), u16(0x0043), u16(0x0010), u16(2048), Buffer.from('00000001', 'hex'), u16(n.length), n]);
    const akName = Buffer.concat([u16(0x000b), createHash('sha256').update('ak').digest()]);
    await expect(makeCredential({ ekPublic: new Uint8Array(ek), akName: new Uint8Array(akName), secret: new Uint8Array(16) })).rejects.toMatchObject({ code: 'KEY_EXPONENT_INVALID' });
  });
});

(have ? describe : describe.skip)('keys on a certificate path', () => {
  const dir = have ? mkdtempSync(join(tmpdir(), 'aicert-keys-')) : '';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ossl = (...a: string[]): void => void execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const rd = (f: string): string => readFileSync(join(dir, f), 'utf8');
  if (have) {
    writeFileSync(join(dir, 'ext.cnf'), EXT);
    ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'root.key');
    ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', 'int1024.key');
    ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'other.key');
    ossl('req', '-x509', '-new', '-key', 'root.key', '-subj', '/CN=Keys Root', '-days', '30', '-config', 'ext.cnf', '-extensions', 'root', '-out', 'root.pem');
    ossl('pkey', '-in', 'int1024.key', '-pubout', '-out', 'int1024.pub');
    ossl('x509', '-new', '-force_pubkey', 'int1024.pub', '-subj', '/CN=Int 1024', '-CA', 'root.pem', '-CAkey', 'root.key', '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'int', '-out', 'int1024.pem');
    ossl('x509', '-new', '-force_pubkey', AK_PUB, '-subj', '/CN=AK under 1024', '-CA', 'int1024.pem', '-CAkey', 'int1024.key', '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'ak', '-out', 'ak1024.pem');
    // An intermediate whose key has e = 1, genuinely signed by the root.
    writeFileSync(join(dir, 'e1.pub'), pemOf('PUBLIC KEY', e1Spki().spki));
    ossl('x509', '-new', '-force_pubkey', 'e1.pub', '-subj', '/CN=Int e1', '-CA', 'root.pem', '-CAkey', 'root.key', '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'int', '-out', 'inte1.pem');
    // An AK certificate "issued" by it with no private key: signed by another key under the same name, then the
    // signature replaced by the padded TBS (which is what e = 1 verifies).
    ossl('req', '-x509', '-new', '-key', 'other.key', '-subj', '/CN=Int e1', '-days', '30', '-config', 'ext.cnf', '-extensions', 'root', '-out', 'other.pem');
    ossl('x509', '-new', '-force_pubkey', AK_PUB, '-subj', '/CN=Forged AK', '-CA', 'other.pem', '-CAkey', 'other.key', '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'ak', '-outform', 'DER', '-out', 'forged.der');
  }

  test('an RSA-1024 intermediate is KEY_TOO_SMALL, as openssl -auth_level 2 says "CA certificate key too weak"', async () => {
    const ok = spawnSync('openssl', ['verify', '-auth_level', '2', '-CAfile', 'root.pem', '-untrusted', 'int1024.pem', 'ak1024.pem'], { cwd: dir, encoding: 'utf8' });
    expect(ok.status).not.toBe(0);
    expect(ok.stdout + ok.stderr).toMatch(/key too weak/);
    expect(await code(verifyAkChain([rd('ak1024.pem'), rd('int1024.pem')], { trustAnchors: [rd('root.pem')] }))).toBe('KEY_TOO_SMALL');
  });

  test('an AK certificate forged under an e = 1 intermediate (no private key) is refused (was: a valid chain)', async () => {
    const der = readFileSync(join(dir, 'forged.der'));
    // Certificate ::= SEQUENCE { tbs, alg, BIT STRING sig }: the TBS starts after the outer header (4 bytes here).
    const tbsLen = der.readUInt16BE(6) + 4;
    const tbs = der.subarray(4, 4 + tbsLen);
    der.set(em(tbs, 256), der.length - 256);
    expect(await code(verifyAkChain([new Uint8Array(der), rd('inte1.pem')], { trustAnchors: [rd('root.pem')] }))).toBe('KEY_EXPONENT_INVALID');
  });
});
