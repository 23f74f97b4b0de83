/**
 * Intel TDX evidence: the TDREPORT (Intel TDX Module ABI, TDREPORT_STRUCT, 1024 bytes) and the TD quote v4
 * (Intel TDX DCAP Quoting Library API, Appendix A.3 "Version 4 Quote Format",
 * https://download.01.org/intel-sgx/latest/dcap-latest/linux/docs/Intel_TDX_DCAP_Quoting_Library_API.pdf).
 * Verified: the quote's ECDSA P-256 signature with its attestation key, the QE report binding of that key, the
 * QE report's signature by the PCK, the PCK chain to the pinned Intel SGX Root CA, and that the quote's TD body
 * equals the TDREPORT. TCB status needs Intel's collateral and is reported as not checked.
 * Layout and field origins: spec/confidential-vms.md §TDX.
 */
import { MalformedInputError, VerificationError, type VerificationCode } from '../errors.js';
import { bytesEqual, concat, constantTimeEqual, fromHex, toHex, tryUtf8Decode } from '../util/bytes.js';
import { hash, TPM_ALG } from '../util/hash.js';
import { summarize } from './akcert.js';
import type { KeyMaterial } from './keys.js';
import { materialFromSpki } from './keys.js';
import type { Check } from './quote.js';
import { Reader } from './reader.js';
import { verifySignature } from './sigverify.js';
import { EMBEDDED_HARDWARE_ROOTS, requireRoots } from './trust-hardware.js';
import { parseCert } from './x509-cert.js';
import { parseCertificates, type CertInput } from './x509-der.js';
import { buildPath } from './x509-path.js';

const HEADER = 48;
const BODY = 584;
const QE_REPORT = 384;
const MAX_QUOTE = 64 * 1024;
/** TD body fields: [name, offset in the quote body, size, offset in the TDREPORT]. */
const FIELDS: [string, number, number, number][] = [
  ['teeTcbSvn', 0, 16, 264], ['mrSeam', 16, 48, 280], ['mrSignerSeam', 64, 48, 328], ['seamAttributes', 112, 8, 376],
  ['tdAttributes', 120, 8, 512], ['xfam', 128, 8, 520], ['mrTd', 136, 48, 528], ['mrConfigId', 184, 48, 576],
  ['mrOwner', 232, 48, 624], ['mrOwnerConfig', 280, 48, 672], ['rtmr0', 328, 48, 720], ['rtmr1', 376, 48, 768],
  ['rtmr2', 424, 48, 816], ['rtmr3', 472, 48, 864], ['reportData', 520, 64, 128],
];

/**
 * Intel's published identity of the TDX quoting enclave (TD_QE; Intel PCS `GET /tdx/certification/v4/qe/identity`):
 * MRSIGNER, ISVPRODID 2, MISCSELECT 0 under mask FFFFFFFF, ATTRIBUTES 11h… under mask FBFFFFFFFFFFFFFF0…0.
 */
export const TD_QE_IDENTITY = {
  mrSigner: 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5',
  isvProdId: 2,
  miscSelect: 0,
  miscSelectMask: 0xffffffff,
  attributes: '11000000000000000000000000000000',
  attributesMask: 'fbffffffffffffff0000000000000000',
} as const;

/** The QE report (SGX REPORT_BODY) is Intel's TD quoting enclave: MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES. */
export function checkQeIdentity(qeReport: Uint8Array): string {
  const id = TD_QE_IDENTITY;
  const dv = new DataView(qeReport.buffer, qeReport.byteOffset, qeReport.byteLength);
  const mrSigner = toHex(qeReport.subarray(128, 160));
  const prodId = dv.getUint16(256, true);
  const misc = dv.getUint32(16, true);
  const attr = qeReport.subarray(48, 64);
  const want = fromHex(id.attributes);
  const mask = fromHex(id.attributesMask);
  const bad: string[] = [];
  if (mrSigner !== id.mrSigner) bad.push(`MRSIGNER ${mrSigner.slice(0, 16)}…`);
  if (prodId !== id.isvProdId) bad.push(`ISVPRODID ${prodId}`);
  if (((misc & id.miscSelectMask) >>> 0) !== id.miscSelect) bad.push(`MISCSELECT ${misc.toString(16)}`);
  if (attr.some((b, i) => (b & mask[i]!) !== (want[i]! & mask[i]!))) bad.push(`ATTRIBUTES ${toHex(attr)}`);
  if (bad.length) throw new VerificationError('TDX_QE_IDENTITY_MISMATCH', `the QE report is not Intel's TD quoting enclave (${bad.join(', ')})`);
  return `QE is Intel's TD quoting enclave (MRSIGNER ${mrSigner.slice(0, 16)}…, ISVPRODID ${prodId}, ISVSVN ${dv.getUint16(258, true)})`;
}

export interface TdQuote {
  version: number;
  teeType: number;
  qeVendorId: string;
  /** Header ‖ TD body: the bytes the attestation key signs. */
  signed: Uint8Array;
  body: Uint8Array;
  signature: Uint8Array;
  attestKey: KeyMaterial;
  qeReport: Uint8Array;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** PCK leaf first, as carried in the certification data (DER). */
  pckChain: Uint8Array[];
}

/** Parses a TD quote v4 with QE report certification data (type 6) holding a PCK chain (type 5). */
export function parseTdQuote(bytes: Uint8Array): TdQuote {
  if (bytes.length > MAX_QUOTE) throw new MalformedInputError(`TD quote larger than ${MAX_QUOTE} bytes`, { offset: 0 });
  const r = new Reader(bytes.slice(), 'TD quote');
  const version = r.u16le('header.version');
  if (version !== 4) r.fail(`TD quote version ${version} is not 4`, 0);
  if (r.u16le('header.att_key_type') !== 2) r.fail('attestation key type is not ECDSA P-256', 2);
  const teeType = r.u32le('header.tee_type');
  if (teeType !== 0x81) r.fail(`tee_type 0x${teeType.toString(16)} is not TDX (0x81)`, 4);
  r.skip(4, 'header.reserved');
  const qeVendorId = toHex(r.bytesN(16, 'header.qe_vendor_id'));
  r.skip(20, 'header.user_data');
  const body = r.bytesN(BODY, 'body');
  const sigLen = r.u32le('signature_data_len');
  const s = r.sub(sigLen, 'signature_data');
  // Quote buffers are often returned zero-padded; only zeros may follow the signature data.
  const padAt = r.offset;
  const nz = r.bytesN(r.remaining, 'padding').findIndex((b) => b !== 0);
  if (nz >= 0) r.fail('non-zero bytes after the signature data', padAt + nz);
  const signature = s.bytesN(64, 'signature');
  const key = s.bytesN(64, 'attestation_key');
  if (s.u16le('certification_data.type') !== 6) s.fail('certification data is not a QE report (type 6)');
  const c = s.sub(s.u32le('certification_data.size'), 'certification_data');
  s.end();
  const qeReport = c.bytesN(QE_REPORT, 'qe_report');
  const qeReportSignature = c.bytesN(64, 'qe_report_signature');
  const qeAuthData = c.bytesN(c.u16le('qe_auth_data.size'), 'qe_auth_data');
  if (c.u16le('pck.type') !== 5) c.fail('inner certification data is not a PCK certificate chain (type 5)');
  const pem = c.bytesN(c.u32le('pck.size'), 'pck.chain');
  c.end();
  // The PEM chain is often NUL-terminated.
  const text = tryUtf8Decode(pem)?.replace(/\0+$/, '');
  if (text === undefined) throw new MalformedInputError('PCK chain is not UTF-8 PEM', { path: 'tdQuote.pck' });
  return {
    version, teeType, qeVendorId, signed: bytes.slice(0, HEADER + BODY), body, signature,
    attestKey: { kty: 'EC', crv: 'P-256', x: key.slice(0, 32), y: key.slice(32) },
    qeReport, qeReportSignature, qeAuthData, pckChain: parseCertificates(text, 'tdQuote.pck'),
  };
}

/** TD measurements from the quote body. */
export function tdClaims(body: Uint8Array): Record<string, string> {
  return Object.fromEntries(FIELDS.map(([n, o, l]) => [n, toHex(body.subarray(o, o + l))]));
}

/** ECDSA P-256/SHA-256 over `data`, signature r‖s big-endian. */
function p256(key: KeyMaterial, sig: Uint8Array, data: Uint8Array): Promise<boolean> {
  return verifySignature(key, { scheme: 'ecdsa', hashAlg: TPM_ALG.SHA256, r: sig.subarray(0, 32), s: sig.subarray(32) }, data);
}

function fail(checks: Check[], id: string, code: VerificationCode, msg: string): never {
  checks.push({ id, ok: false, detail: msg });
  throw new VerificationError(code, msg, { checks });
}

/**
 * Verifies a TD quote and its TDREPORT; returns the quote's (signed) report_data and the TD claims. `intelRoots`: the
 * Intel SGX Root CA(s) the trust configuration resolved to (src/tpm/trust-hardware.ts); none: CERT_UNTRUSTED_ROOT.
 */
export async function verifyTdxEvidence(tdReport: Uint8Array, tdQuote: Uint8Array, opts: { at: Date; intelRoots?: CertInput[] }) {
  const checks: Check[] = [];
  if (tdReport.length !== 1024 || tdReport[0] !== 0x81) throw new MalformedInputError('not a TDREPORT (1024 bytes, type 0x81)', { path: 'hwReport', offset: 0 });
  const q = parseTdQuote(tdQuote);
  // PCK chain to the pinned Intel SGX Root CA.
  const [leafDer, ...rest] = q.pckChain;
  if (!leafDer) fail(checks, 'tdx.pck.chain', 'CERT_CHAIN_INVALID', 'the TD quote carries no PCK certificate');
  const leaf = parseCert(leafDer, 'tdQuote.pck[0]');
  const roots = opts.intelRoots ?? EMBEDDED_HARDWARE_ROOTS.intel;
  const anchors = roots.flatMap((r) => parseCertificates(r, 'intelRoots')).map((d, i) => parseCert(d, `intelRoots[${i}]`));
  try {
    requireRoots('Intel', anchors.length);
    const built = await buildPath(leaf, { anchors, pool: rest.map((d, i) => parseCert(d, `tdQuote.pck[${i + 1}]`)), at: opts.at });
    if (!/CN=Intel SGX PCK Certificate/.test(leaf.subject)) throw new VerificationError('CERT_CHAIN_INVALID', `leaf "${leaf.subject}" is not a PCK certificate`);
    checks.push({ id: 'tdx.pck.chain', ok: true, detail: `PCK chains to the configured Intel SGX Root CA (${built.path.map((c) => summarize(c).subject.replace(/.*CN=([^,]+).*/, '$1')).join(' → ')})` });
  } catch (e) {
    if (e instanceof VerificationError) fail(checks, 'tdx.pck.chain', e.code, e.message);
    throw e;
  }
  // QE report: signed by the PCK; its report_data binds the attestation key and the QE auth data.
  if (!(await p256(materialFromSpki(leaf.spki), q.qeReportSignature, q.qeReport))) fail(checks, 'tdx.qe-report.signature', 'TDX_QE_REPORT_SIGNATURE_INVALID', 'QE report signature does not verify with the PCK key');
  checks.push({ id: 'tdx.qe-report.signature', ok: true, detail: 'QE report signed by the PCK key' });
  // QE identity: a quote signed through any other enclave the PCK signed a report for is not Intel's QE's.
  try {
    checks.push({ id: 'tdx.qe-identity', ok: true, detail: checkQeIdentity(q.qeReport) });
  } catch (e) {
    if (e instanceof VerificationError) fail(checks, 'tdx.qe-identity', e.code, e.message);
    throw e;
  }
  const ak = concat(q.attestKey.kty === 'EC' ? q.attestKey.x : new Uint8Array(), q.attestKey.kty === 'EC' ? q.attestKey.y : new Uint8Array());
  const rd = q.qeReport.subarray(320, 384);
  const want = hash(TPM_ALG.SHA256, concat(ak, q.qeAuthData));
  if (!constantTimeEqual(rd.subarray(0, 32), want) || rd.subarray(32).some((b) => b !== 0)) fail(checks, 'tdx.qe-report.binding', 'TDX_QE_BINDING_MISMATCH', 'QE report_data is not SHA-256(attestation key ‖ QE auth data)');
  checks.push({ id: 'tdx.qe-report.binding', ok: true, detail: 'QE report_data = SHA-256(attestation key ‖ QE auth data)' });
  // The quote: header ‖ TD body signed by the attestation key.
  if (!(await p256(q.attestKey, q.signature, q.signed))) fail(checks, 'tdx.quote.signature', 'TDX_QUOTE_SIGNATURE_INVALID', 'TD quote signature does not verify with its attestation key');
  checks.push({ id: 'tdx.quote.signature', ok: true, detail: 'ECDSA P-256 TD quote signature verifies with the QE-certified attestation key' });
  // TDREPORT ↔ quote: every TD field of the signed body equals the TDREPORT's.
  const diff = FIELDS.filter(([, o, l, t]) => !bytesEqual(q.body.subarray(o, o + l), tdReport.subarray(t, t + l))).map(([n]) => n);
  if (diff.length) fail(checks, 'tdx.report.match', 'TDX_REPORT_MISMATCH', `TD quote and TDREPORT differ in ${diff.join(', ')}`);
  checks.push({ id: 'tdx.report.match', ok: true, detail: `TD quote body equals the TDREPORT (${FIELDS.length} fields)` });
  checks.push({ id: 'tdx.tcb-status', ok: null, detail: 'TCB status not checked: needs Intel TCB info and QE identity collateral' });
  return { checks, warnings: ['TDX TCB status not checked (no Intel collateral offline)'], reportData: q.body.slice(520, 584), claims: { ...tdClaims(q.body), qeVendorId: q.qeVendorId, tcbStatus: 'not checked' } };
}
