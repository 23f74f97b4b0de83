// Generated TDX evidence: a private P-256 hierarchy made by openssl standing in for Intel's (root → PCK CA → "Intel
// SGX PCK Certificate"), given as intelRoots; a QE report signed by the PCK key, a TD quote v4 signed by the
// QE-certified attestation key (node:crypto), the TDREPORT and an HCL report around it, and a vTPM quote signed by
// its HCLAkPub. Covers what Azure's real TD cannot: a rogue quoting enclave the PCK signed a report for, debug TDs.
// Layouts: Intel TDX DCAP Quoting Library API A.3, spec/confidential-vms.md §5.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyConfidentialVmQuote, type ConfidentialVmInput } from '../src/tpm/cvm.js';
import { pinTdx, tdQuoteMrTd } from './helpers/cvm-pins.js';
import { bindRuntime, hclReport, runtimeData } from './helpers/snp-gen.js';
import { outcome } from './helpers/outcome.js';

const D = mkdtempSync(join(tmpdir(), 'aicert-tdx-gen-'));
const Q = resolve(import.meta.dirname, '../testvectors/quote/ak-rsa');
const ossl = (...a: string[]) => execFileSync('openssl', a, { cwd: D, stdio: ['ignore', 'pipe', 'pipe'] });
/** Intel's published TD QE identity (Intel PCS qe/identity for TDX), as Azure's real TD quote also carries it. */
const INTEL_TD_QE_MRSIGNER = Buffer.from('dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5', 'hex');
let rootPem: string;
let chainPem: string;
let pckKey: KeyObject;
const ak = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attestKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

beforeAll(() => {
  writeFileSync(join(D, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(join(D, 'leaf.ext'), 'keyUsage=critical,digitalSignature,nonRepudiation\n');
  const ec = (n: string) => ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${n}.key`);
  ec('root');
  ossl('req', '-x509', '-new', '-key', 'root.key', '-subj', '/O=aicert test/CN=Test SGX Root CA', '-days', '3650', '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root.pem');
  ec('pckca');
  ossl('req', '-new', '-key', 'pckca.key', '-subj', '/O=aicert test/CN=Test SGX PCK Platform CA', '-out', 'pckca.csr');
  ossl('x509', '-req', '-in', 'pckca.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '3000', '-sha256', '-extfile', 'ca.ext', '-out', 'pckca.pem');
  ec('pck');
  ossl('req', '-new', '-key', 'pck.key', '-subj', '/O=aicert test/CN=Intel SGX PCK Certificate', '-out', 'pck.csr');
  ossl('x509', '-req', '-in', 'pck.csr', '-CA', 'pckca.pem', '-CAkey', 'pckca.key', '-CAcreateserial', '-days', '2000', '-sha256', '-extfile', 'leaf.ext', '-out', 'pck.pem');
  const rd = (f: string) => readFileSync(join(D, f), 'utf8');
  rootPem = rd('root.pem');
  chainPem = rd('pck.pem') + rd('pckca.pem') + rootPem;
  pckKey = createPrivateKey(readFileSync(join(D, 'pck.key')));
});
afterAll(() => rmSync(D, { recursive: true, force: true }));

interface TdOptions { mrSigner?: Buffer; isvProdId?: number; tdAttributes?: Buffer }

/** TD body fields [quote body offset, size, TDREPORT offset] set to recognisable values; report_data last. */
const FIELDS: [number, number, number][] = [[0, 16, 264], [16, 48, 280], [64, 48, 328], [112, 8, 376], [128, 8, 520], [136, 48, 528], [184, 48, 576], [232, 48, 624], [280, 48, 672], [328, 48, 720], [376, 48, 768], [424, 48, 816], [472, 48, 864]];

function evidence(o: TdOptions = {}): ConfidentialVmInput {
  const runtime = runtimeData(ak.publicKey.export({ format: 'jwk' }) as Record<string, unknown>);
  const body = Buffer.alloc(584);
  const tdReport = Buffer.alloc(1024);
  tdReport[0] = 0x81;
  FIELDS.forEach(([b, n, t], i) => {
    const v = Buffer.alloc(n, 0x10 + i);
    v.copy(body, b);
    v.copy(tdReport, t);
  });
  const attr = o.tdAttributes ?? Buffer.alloc(8);
  attr.copy(body, 120);
  attr.copy(tdReport, 512);
  bindRuntime(runtime).copy(body, 520);
  bindRuntime(runtime).copy(tdReport, 128);
  const header = Buffer.alloc(48);
  header.writeUInt16LE(4, 0);
  header.writeUInt16LE(2, 2);
  header.writeUInt32LE(0x81, 4);
  const jwk = attestKey.publicKey.export({ format: 'jwk' });
  const akRaw = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const auth = Buffer.alloc(32, 7);
  const qe = Buffer.alloc(384);
  Buffer.from('11', 'hex').copy(qe, 48);
  (o.mrSigner ?? INTEL_TD_QE_MRSIGNER).copy(qe, 128);
  qe.writeUInt16LE(o.isvProdId ?? 2, 256);
  createHash('sha256').update(Buffer.concat([akRaw, auth])).digest().copy(qe, 320);
  const p1363 = (k: KeyObject, m: Buffer) => sign('sha256', m, { key: k, dsaEncoding: 'ieee-p1363' });
  const pem = Buffer.from(chainPem + '\0');
  const inner = Buffer.concat([Buffer.from([5, 0]), u32(pem.length), pem]);
  const cert = Buffer.concat([qe, p1363(pckKey, qe), u16(auth.length), auth, inner]);
  const sigData = Buffer.concat([p1363(attestKey.privateKey, Buffer.concat([header, body])), akRaw, u16(6), u32(cert.length), cert]);
  const tdQuote = Buffer.concat([header, body, u32(sigData.length), sigData]);
  const msg = readFileSync(join(Q, 'quote.msg'));
  return {
    hclReport: new Uint8Array(hclReport(tdReport, runtime, 4)),
    tdQuote: new Uint8Array(tdQuote),
    quote: { attest: new Uint8Array(msg), signature: new Uint8Array(sign('sha256', msg, ak.privateKey)), signatureFormat: 'plain', pcrs: new Uint8Array(readFileSync(join(Q, 'pcrs.values.bin'))) },
    nonce: new Uint8Array(Buffer.from(readFileSync(join(Q, 'nonce.hex'), 'utf8').trim(), 'hex')),
  };
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

const code = (p: Promise<unknown>): Promise<string> => outcome(p, 'ok');
const opts = (e: ConfidentialVmInput) => ({ intelRoots: [rootPem], rules: pinTdx(tdQuoteMrTd(e.tdQuote!)) });

describe('generated TDX evidence (private stand-in for Intel\'s hierarchy)', () => {
  it('verifies end to end with the test root given as intelRoots, Intel\'s QE identity and MRTD pinned', async () => {
    const e = evidence();
    const v = await verifyConfidentialVmQuote(e, opts(e));
    expect(v.complete).toBe(false); // only the TCB status (needs Intel collateral) is not checked
    expect(v.checks.filter((c) => c.ok !== true).map((c) => c.id)).toEqual(['tdx.tcb-status']);
    expect(v.checks.find((c) => c.id === 'tdx.qe-identity')?.ok).toBe(true);
  });
  it('is refused under the embedded Intel root (CERT_UNTRUSTED_ROOT)', async () => {
    const e = evidence();
    expect(await code(verifyConfidentialVmQuote(e, { rules: opts(e).rules }))).toBe('CERT_UNTRUSTED_ROOT');
  });
  it('a quote through a rogue quoting enclave, its report genuinely signed by the PCK, is refused (TDX_QE_IDENTITY_MISMATCH; was: valid)', async () => {
    for (const o of [{ mrSigner: Buffer.alloc(32, 0xab) }, { isvProdId: 1 }]) {
      const e = evidence(o);
      expect(await code(verifyConfidentialVmQuote(e, opts(e)))).toBe('TDX_QE_IDENTITY_MISMATCH');
    }
  });
  it('a debug TD (TD attributes bit 0) is refused by default (TDX_DEBUG_TD; was: valid), accepted with allowDebug', async () => {
    const e = evidence({ tdAttributes: Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]) });
    expect(await code(verifyConfidentialVmQuote(e, opts(e)))).toBe('TDX_DEBUG_TD');
    expect(await code(verifyConfidentialVmQuote(e, { ...opts(e), allowDebug: true }))).toBe('ok');
  });
  it('an unpinned MRTD is refused (CVM_MEASUREMENT_NOT_PINNED); another pinned value too (CVM_POLICY_MISMATCH)', async () => {
    const e = evidence();
    expect(await code(verifyConfidentialVmQuote(e, { intelRoots: [rootPem] }))).toBe('CVM_MEASUREMENT_NOT_PINNED');
    expect(await code(verifyConfidentialVmQuote(e, { intelRoots: [rootPem], rules: pinTdx('00'.repeat(48)) }))).toBe('CVM_POLICY_MISMATCH');
  });
});
