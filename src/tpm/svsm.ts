/**
 * SVSM e-vTPM on SEV-SNP (Coconut SVSM; fluorite's svsm-sev-attestation): the AK is not a restricted key, so a
 * TPM-signed quote alone proves nothing; the SNP report binds it instead: report_data = SHA-512(nonce ‖ AK
 * TPMT_PUBLIC). verifySnpBoundQuote checks the AMD chain, the report, that binding, then the quote with the
 * restricted-key rule satisfied by the hardware binding. Spec: spec/confidential-vms.md §SVSM.
 */
import { MalformedInputError, PolicyError, VerificationError } from '../errors.js';
import { concat, constantTimeEqual, toHex } from '../util/bytes.js';
import { hash, TPM_ALG } from '../util/hash.js';
import { describeKey, loadAkPublic } from './keys.js';
import { verifyQuote, type Check, type QuoteVerification, type VerifyQuoteInput } from './quote.js';
import { checkCvmRules, type CvmRules } from './cvm-rules.js';
import { decodeTcb, parseSnpReport, snpClaims, verifySnpSignature } from './snp.js';
import { checkVcekMatchesReport, verifyVcek } from './snp-vcek.js';
import { resolveHardwareRoots, type AmdRoots } from './trust-hardware.js';
import type { CertInput } from './x509-der.js';

export interface SnpBoundQuoteInput extends Omit<VerifyQuoteInput, 'akPublic' | 'nonce'> {
  /** The 1184-byte SNP attestation report. */
  snpReport: Uint8Array;
  vcek: CertInput;
  vcekChain?: CertInput[];
  /** The AK as TPMT_PUBLIC or TPM2B_PUBLIC bytes (the binding hashes the TPMT_PUBLIC). */
  akPublic: Uint8Array;
  /** The verifier's nonce, bound by the report (the quote's own qualifying data may be empty). */
  nonce: Uint8Array;
}

export interface SnpBoundQuoteVerification {
  platform: 'sev-snp';
  claims: Record<string, unknown>;
  quote: QuoteVerification;
  checks: Check[];
  complete: boolean;
}

function fail(checks: Check[], id: string, e: VerificationError | PolicyError): never {
  checks.push({ id, ok: false, detail: e.message });
  if (e instanceof PolicyError) throw new PolicyError(e.code, e.message, { ...e.details, checks });
  throw new VerificationError(e.code, e.message, { ...e.details, checks }, { cause: e });
}

/** Verifies a quote whose AK is bound by an SEV-SNP report (SVSM). */
export async function verifySnpBoundQuote(input: SnpBoundQuoteInput, options: { at?: Date; allowDebug?: boolean; rules?: CvmRules; amdRoots?: AmdRoots } = {}): Promise<SnpBoundQuoteVerification> {
  const checks: Check[] = [];
  const report = parseSnpReport(input.snpReport);
  const ak = loadAkPublic(input.akPublic);
  if (!ak.tpmPublic) throw new TypeError('akPublic must be a TPM public area (the SNP binding hashes the TPMT_PUBLIC)');
  // Step 1: AMD chain, VCEK ↔ report, report signature, debug policy.
  let vcek;
  try {
    vcek = await verifyVcek(input.vcek, input.vcekChain ?? [], options.at ?? new Date(), resolveHardwareRoots(options.amdRoots ? { amdRoots: options.amdRoots } : {}).amd);
  } catch (e) {
    if (e instanceof VerificationError) fail(checks, 'snp.vcek.chain', e);
    throw e;
  }
  checks.push({ id: 'snp.vcek.chain', ok: true, detail: `${vcek.kind.toUpperCase()} chains to the configured ARK-${vcek.product}` });
  try {
    checks.push({ id: 'snp.vcek.tcb', ok: true, detail: checkVcekMatchesReport(vcek, report) });
  } catch (e) {
    if (e instanceof VerificationError) fail(checks, 'snp.vcek.tcb', e);
    throw e;
  }
  if (!(await verifySnpSignature(report, vcek.key))) fail(checks, 'snp.report.signature', new VerificationError('SNP_REPORT_SIGNATURE_INVALID', `SNP report signature does not verify with the ${vcek.kind.toUpperCase()}`));
  checks.push({ id: 'snp.report.signature', ok: true, detail: `ECDSA P-384/SHA-384 report signature verifies with the ${vcek.kind.toUpperCase()}` });
  // Step 2: report_data = SHA-512(nonce ‖ TPMT_PUBLIC): the hardware vouches for this AK and this nonce.
  const want = hash(TPM_ALG.SHA512, concat(input.nonce, ak.tpmPublic.raw));
  if (!constantTimeEqual(want, report.reportData)) {
    fail(checks, 'snp.ak-binding', new VerificationError('SNP_REPORT_BINDING_MISMATCH', 'SNP report_data is not SHA-512(nonce ‖ AK public area)', { expected: toHex(want), actual: toHex(report.reportData) }));
  }
  checks.push({ id: 'snp.ak-binding', ok: true, detail: `report_data = SHA-512(nonce ‖ AK ${describeKey(ak.material)} public area)` });
  // Step 3: the quote, the AK's restrictedness replaced by the hardware binding.
  let q: QuoteVerification;
  try {
    const { attest, signature, pcrs } = input;
    q = await verifyQuote({ attest, signature, akPublic: ak, ...(pcrs ? { pcrs } : {}) }, { requireRestricted: false });
  } catch (e) {
    if (e instanceof VerificationError) throw new VerificationError(e.code, e.message, { ...e.details, checks: [...checks, ...((e.details?.checks as Check[]) ?? [])] }, { cause: e });
    throw e;
  }
  for (const c of q.checks) {
    if (c.id === 'ak.attributes' && c.ok === null) checks.push({ id: c.id, ok: true, detail: `non-restricted AK accepted: bound by the SNP report (${c.detail})` });
    else if (c.id === 'nonce' && c.ok === null) {
      // The nonce is bound by the report; qualifying data in the quote, when present, must be that nonce too.
      const extra = q.attest.extraData;
      if (extra.length && !constantTimeEqual(extra, input.nonce)) fail(checks, 'nonce', new VerificationError('NONCE_MISMATCH', 'quote qualifying data is neither empty nor the nonce'));
      checks.push({ id: c.id, ok: true, detail: `nonce bound by the SNP report_data${extra.length ? ' and equal to the quote qualifying data' : ' (quote qualifying data empty)'}` });
    }
    else checks.push(c);
  }
  // Step 4: debug, VMPL, the pinned launch measurement and the other pins (src/tpm/cvm-rules.ts).
  const turin = vcek.product === 'Turin';
  const claims = { ...snpClaims(report, turin), product: vcek.product };
  try {
    checks.push(...checkCvmRules('sev-snp', claims, decodeTcb(report.reportedTcb, turin) as unknown as Record<string, number>, options.rules, options.allowDebug ? { allowDebug: true } : {}));
  } catch (e) {
    if (e instanceof PolicyError) throw new PolicyError(e.code, e.message, { ...e.details, checks: [...checks, ...((e.details?.checks as Check[]) ?? [])] });
    throw e;
  }
  return { platform: 'sev-snp', claims, quote: q, checks, complete: checks.every((c) => c.ok === true) };
}

/** TCB_VERSION from fluorite's JSON `{fmc, bootloader, tee, snp, microcode}` (Milan/Genoa layout unless fmc). */
function tcbU64(t: Record<string, number | null>): bigint {
  const b = new Uint8Array(8);
  if (t.fmc !== null && t.fmc !== undefined) b.set([t.fmc, t.bootloader!, t.tee!, t.snp!, 0, 0, 0, t.microcode!]);
  else b.set([t.bootloader!, t.tee!, 0, 0, 0, 0, t.snp!, t.microcode!]);
  return new DataView(b.buffer).getBigUint64(0, true);
}

/**
 * Serialises the attestation report of fluorite's SVSM attestation document (its Rust struct as JSON) back into
 * the 1184 ABI bytes, so the AMD signature is checked over exactly what the hardware signed.
 */
export function snpReportFromFluoriteJson(j: Record<string, unknown>): Uint8Array {
  const out = new Uint8Array(0x4a0);
  const dv = new DataView(out.buffer);
  const n = (k: string): number => {
    const v = j[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new MalformedInputError(`report field ${k} is not a non-negative integer`, { path: `attestation_report.${k}` });
    return v;
  };
  const bytes = (k: string, off: number, len: number): void => {
    const v = j[k];
    if (!Array.isArray(v) || v.length !== len || v.some((x) => typeof x !== 'number' || x < 0 || x > 255)) throw new MalformedInputError(`report field ${k} is not ${len} bytes`, { path: `attestation_report.${k}` });
    out.set(v as number[], off);
  };
  const tcb = (k: string, off: number): void => dv.setBigUint64(off, tcbU64(j[k] as Record<string, number | null>), true);
  const ver = (k: string, off: number): void => {
    const v = j[k] as Record<string, number>;
    out.set([v.build!, v.minor!, v.major!], off);
  };
  dv.setUint32(0, n('version'), true);
  dv.setUint32(4, n('guest_svn'), true);
  dv.setBigUint64(8, BigInt(n('policy')), true);
  bytes('family_id', 0x10, 16);
  bytes('image_id', 0x20, 16);
  dv.setUint32(0x30, n('vmpl'), true);
  dv.setUint32(0x34, n('sig_algo'), true);
  tcb('current_tcb', 0x38);
  dv.setBigUint64(0x40, BigInt(n('plat_info')), true);
  dv.setUint32(0x48, n('key_info'), true);
  bytes('report_data', 0x50, 64);
  bytes('measurement', 0x90, 48);
  bytes('host_data', 0xc0, 32);
  bytes('id_key_digest', 0xe0, 48);
  bytes('author_key_digest', 0x110, 48);
  bytes('report_id', 0x140, 32);
  bytes('report_id_ma', 0x160, 32);
  tcb('reported_tcb', 0x180);
  out.set([n('cpuid_fam_id'), n('cpuid_mod_id'), n('cpuid_step')], 0x188);
  bytes('chip_id', 0x1a0, 64);
  tcb('committed_tcb', 0x1e0);
  ver('current', 0x1e8);
  ver('committed', 0x1ec);
  tcb('launch_tcb', 0x1f0);
  return withSignature(out, j.signature as Record<string, number[]>);
}

/** Copies fluorite's little-endian r and s (72 bytes each) into the signature field. */
function withSignature(out: Uint8Array, sig: Record<string, number[]>): Uint8Array {
  for (const [k, off] of [['r', 0x2a0], ['s', 0x2e8]] as const) {
    const v = sig?.[k];
    if (!Array.isArray(v) || v.length !== 72) throw new MalformedInputError(`signature ${k} is not 72 bytes`, { path: `attestation_report.signature.${k}` });
    out.set(v, off);
  }
  return out;
}
