/**
 * RSASSA-PSS certificate signatures (RFC 4055 §3.1) decoded with the project's own DER reader, cross-checked with
 * certificates openssl makes: SHA-256/384/512 with matching MGF1 and various salt lengths verify; a flipped
 * signature, MGF1 over another hash, and the SHA-1 defaults are refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseCert } from '../src/tpm/x509-cert.js';
import { clearSignatureCache, pssParams, verifyCertSignature } from '../src/tpm/x509-sig.js';

const dir = mkdtempSync(join(tmpdir(), 'aicert-pss-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ssl = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });

execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'ca.key'], { cwd: dir, stdio: 'pipe' });
ssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=PSS CA', '-days', '30', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-outform', 'DER', '-out', 'ca.der');
const ca = parseCert(new Uint8Array(readFileSync(join(dir, 'ca.der'))));

/** A leaf signed by the CA key with the given digest and PSS options. */
function leaf(name: string, md: string, opts: string[]): Uint8Array {
  ssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
  ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.der', '-CAform', 'DER', '-CAkey', 'ca.key', '-set_serial', '7', '-days', '10', `-${md}`, '-sigopt', 'rsa_padding_mode:pss', ...opts.flatMap((o) => ['-sigopt', o]), '-outform', 'DER', '-out', `${name}.der`);
  return new Uint8Array(readFileSync(join(dir, `${name}.der`)));
}

describe('RSA-PSS certificate signatures', () => {
  test('openssl PSS certificates verify: SHA-256 salt 32 (self-signed), SHA-384 salt 48, SHA-512 salt 0', async () => {
    expect(await verifyCertSignature(ca, ca)).toEqual({ ok: true });
    for (const [md, salt] of [['sha384', '48'], ['sha512', '0']] as const) {
      const c = parseCert(leaf(`l-${md}`, md, [`rsa_pss_saltlen:${salt}`, `rsa_mgf1_md:${md}`]));
      expect(await verifyCertSignature(c, ca), md).toEqual({ ok: true });
    }
  });

  test('a flipped signature bit fails', async () => {
    clearSignatureCache();
    const der = leaf('flip', 'sha256', ['rsa_pss_saltlen:32']);
    der[der.length - 5]! ^= 1;
    expect((await verifyCertSignature(parseCert(der), ca)).ok).toBe(false);
  });

  test('MGF1 over another hash is refused, not guessed', async () => {
    const c = parseCert(leaf('mgf', 'sha256', ['rsa_pss_saltlen:32', 'rsa_mgf1_md:sha384']));
    expect(await verifyCertSignature(c, ca)).toEqual({ ok: false, reason: expect.stringMatching(/matching MGF1/) });
  });

  test('parameters: defaults (SHA-1) refused, out-of-order or malformed fields rejected', () => {
    expect(pssParams(new Uint8Array())).toMatch(/not supported/);
    // [2] salt before [0] hash
    const sha256Alg = [0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00];
    const outOfOrder = new Uint8Array([0xa2, 0x03, 0x02, 0x01, 0x20, 0xa0, sha256Alg.length, ...sha256Alg]);
    expect(pssParams(outOfOrder)).toBeUndefined();
    expect(pssParams(new Uint8Array([0xa2, 0x03, 0x02, 0x01, 0x80]))).toBeUndefined(); // negative salt
    expect(pssParams(new Uint8Array([0xa4, 0x00]))).toBeUndefined(); // unknown field
  });
});
