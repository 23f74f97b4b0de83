// Generated SEV-SNP evidence: a private ARK → ASK → VCEK hierarchy made by openssl (RSA-PSS/SHA-384 and P-384 with
// AMD's TCB and hwID extensions), an SNP report signed by node:crypto with the VCEK (little-endian r, s), an HCL
// report around it, and a vTPM quote signed by its HCLAkPub. Covers what the real vectors cannot: debug guests, TCB
// and chip-id mismatches, and that a hierarchy other than AMD's pinned roots is refused.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyError, VerificationError } from '../src/errors.js';
import { verifyConfidentialVmQuote, type ConfidentialVmInput } from '../src/tpm/cvm.js';

const D = mkdtempSync(join(tmpdir(), 'aicert-snp-gen-'));
const Q = resolve(import.meta.dirname, '../testvectors/quote/ak-rsa');
const ossl = (...a: string[]) => execFileSync('openssl', a, { cwd: D, stdio: ['ignore', 'pipe', 'pipe'] });
const CHIP = Buffer.alloc(64, 0xc3);
const PSS = ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:48', '-sha384'];
let roots: { Milan: { ark: string; ask: string } };
let vcek: string;
const ak = generateKeyPairSync('rsa', { modulusLength: 2048 });

beforeAll(() => {
  writeFileSync(join(D, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  const amd = (oid: string, v: string) => `${oid}=DER:${v}`;
  writeFileSync(join(D, 'vcek.ext'), [
    'keyUsage=critical,digitalSignature',
    amd('1.3.6.1.4.1.3704.1.3.1', '02:01:03'), amd('1.3.6.1.4.1.3704.1.3.2', '02:01:00'),
    amd('1.3.6.1.4.1.3704.1.3.3', '02:01:08'), amd('1.3.6.1.4.1.3704.1.3.8', '02:01:73'),
    amd('1.3.6.1.4.1.3704.1.4', CHIP.toString('hex').match(/../g)!.join(':')),
  ].join('\n') + '\n');
  ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'ark.key');
  ossl('req', '-x509', '-new', '-key', 'ark.key', '-subj', '/O=aicert test/CN=ARK-Milan', '-days', '3650', ...PSS, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ark.pem');
  ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'ask.key');
  ossl('req', '-new', '-key', 'ask.key', '-subj', '/O=aicert test/CN=SEV-Milan', '-out', 'ask.csr');
  ossl('x509', '-req', '-in', 'ask.csr', '-CA', 'ark.pem', '-CAkey', 'ark.key', '-CAcreateserial', '-days', '3000', ...PSS, '-extfile', 'ca.ext', '-out', 'ask.pem');
  ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'vcek.key');
  ossl('req', '-new', '-key', 'vcek.key', '-subj', '/O=aicert test/CN=SEV-VCEK', '-out', 'vcek.csr');
  ossl('x509', '-req', '-in', 'vcek.csr', '-CA', 'ask.pem', '-CAkey', 'ask.key', '-CAcreateserial', '-days', '2000', ...PSS, '-extfile', 'vcek.ext', '-out', 'vcek.pem');
  roots = { Milan: { ark: readFileSync(join(D, 'ark.pem'), 'utf8'), ask: readFileSync(join(D, 'ask.pem'), 'utf8') } };
  vcek = readFileSync(join(D, 'vcek.pem'), 'utf8');
});
afterAll(() => rmSync(D, { recursive: true, force: true }));

/** An HCL report whose SNP report has the given policy / TCB / chip id, signed by the generated VCEK. */
function evidence(o: { debug?: boolean; snpSpl?: number; chip?: Buffer } = {}): ConfidentialVmInput {
  const jwk = ak.publicKey.export({ format: 'jwk' });
  const runtime = Buffer.from(JSON.stringify({ keys: [{ kid: 'HCLAkPub', key_ops: ['sign'], ...jwk }], 'vm-configuration': { 'secure-boot': true } }));
  const r = Buffer.alloc(0x4a0);
  r.writeUInt32LE(2, 0);
  r.writeBigUInt64LE(0x30000n | (o.debug ? 1n << 19n : 0n), 8);
  r.writeUInt32LE(1, 0x34);
  Buffer.from([3, 0, 0, 0, 0, 0, o.snpSpl ?? 8, 0x73]).copy(r, 0x180);
  createHash('sha256').update(runtime).digest().copy(r, 0x50);
  (o.chip ?? CHIP).copy(r, 0x1a0);
  const sig = sign('sha384', r.subarray(0, 0x2a0), { key: createPrivateKey(readFileSync(join(D, 'vcek.key'))), dsaEncoding: 'ieee-p1363' });
  Buffer.from(sig.subarray(0, 48)).reverse().copy(r, 0x2a0);
  Buffer.from(sig.subarray(48)).reverse().copy(r, 0x2e8);
  const head = Buffer.alloc(32);
  head.write('HCLA', 0, 'latin1');
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(32 + 1184 + 20 + runtime.length, 8);
  head.writeUInt32LE(2, 12);
  const claims = Buffer.alloc(20);
  [20 + runtime.length, 1, 2, 1, runtime.length].forEach((v, i) => claims.writeUInt32LE(v, 4 * i));
  const msg = readFileSync(join(Q, 'quote.msg'));
  return {
    hclReport: new Uint8Array(Buffer.concat([head, r, claims, runtime, Buffer.alloc(100)])),
    vcek,
    quote: { attest: new Uint8Array(msg), signature: new Uint8Array(sign('sha256', msg, ak.privateKey)), signatureFormat: 'plain', pcrs: new Uint8Array(readFileSync(join(Q, 'pcrs.values.bin'))) },
    nonce: new Uint8Array(Buffer.from(readFileSync(join(Q, 'nonce.hex'), 'utf8').trim(), 'hex')),
  };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof VerificationError || e instanceof PolicyError) return e.code;
    throw e;
  }
}

describe('generated SEV-SNP evidence (private test hierarchy)', () => {
  it('verifies end to end with the test hierarchy given as amdRoots', async () => {
    const v = await verifyConfidentialVmQuote(evidence(), { amdRoots: roots });
    expect(v.complete).toBe(true);
    expect((v.claims.reportedTcb as { snp: number; microcode: number }).snp).toBe(8);
  });
  it('is refused under the embedded AMD roots (CERT_UNTRUSTED_ROOT): only AMD\'s pinned ARKs end a VCEK path', async () => {
    expect(await code(verifyConfidentialVmQuote(evidence()))).toBe('CERT_UNTRUSTED_ROOT');
  });
  it('a debug guest is refused by default (SNP_DEBUG_GUEST, a PolicyError) and accepted with allowDebug', async () => {
    const e = evidence({ debug: true });
    await expect(verifyConfidentialVmQuote(e, { amdRoots: roots })).rejects.toBeInstanceOf(PolicyError);
    expect(await code(verifyConfidentialVmQuote(e, { amdRoots: roots }))).toBe('SNP_DEBUG_GUEST');
    expect((await verifyConfidentialVmQuote(e, { amdRoots: roots, allowDebug: true })).complete).toBe(true);
  });
  it('a genuinely signed report at another TCB, or from another chip, does not match the VCEK (SNP_VCEK_MISMATCH)', async () => {
    expect(await code(verifyConfidentialVmQuote(evidence({ snpSpl: 9 }), { amdRoots: roots }))).toBe('SNP_VCEK_MISMATCH');
    expect(await code(verifyConfidentialVmQuote(evidence({ chip: Buffer.alloc(64, 1) }), { amdRoots: roots }))).toBe('SNP_VCEK_MISMATCH');
  });
});
