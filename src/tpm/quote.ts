/**
 * verifyQuote: fail-closed verification of a TPM2_Quote (TPMS_ATTEST + TPMT_SIGNATURE) with every check of
 * go-tpm-tools' quote.Verify and the attack table in docs (spec/verification.md §Quote).
 */
import { VerificationError, type VerificationCode } from '../errors.js';
import { assertBytes, concat, constantTimeEqual, toHex } from '../util/bytes.js';
import { hash, hashInfo, hashName, TPM_ALG } from '../util/hash.js';
import { parseAttest, type Attest, type QuoteInfo } from './attest.js';
import { TPM_GENERATED, TPM_ST } from './constants.js';
import { describeKey, loadAkPublic, rsaExponentProblem, type AkKey } from './keys.js';
import { formatSelection, type PcrBankSelection } from './pcr-selection.js';
import { isTpm2ToolsPcrFile, parseTpm2ToolsPcrFile, pcrValuesFromJson, splitConcatenatedPcrs, type PcrValues } from './pcr-values.js';
import type { TpmPublic } from './public.js';
import { parseSignature, type Signature } from './signature.js';
import { verifySignature } from './sigverify.js';
import type { QuoteCheckId } from './check-ids.js';

/**
 * One check in a verification report. `ok: null` means the check could not run (input not given). `Id` is the
 * verifier's closed set of ids (src/tpm/check-ids.ts, src/aibom/check-ids.ts).
 */
export interface Check<Id extends string = string> {
  id: Id;
  ok: boolean | null;
  detail: string;
  /**
   * Where a property of the AK comes from (spec/verification.md §AK properties): `certificate` (a validated AK
   * certificate vouches for it), `credential` (a credential activation bound the key's name to the EK), or
   * `document` (only the evidence says so; never a passed check).
   */
  source?: 'certificate' | 'credential' | 'document';
}

export interface VerifyQuoteInput {
  /** TPMS_ATTEST bytes, exactly as signed. */
  attest: Uint8Array;
  /** TPMT_SIGNATURE bytes. */
  signature: Uint8Array;
  /** AK: TPMT_PUBLIC / TPM2B_PUBLIC / DER SPKI / DER certificate bytes, PEM text, or a parsed key. */
  akPublic: Uint8Array | string | TpmPublic | AkKey;
  /** PCR values: parsed map, JSON map, tpm2-tools PCR file, or the plain concatenation in selection order. */
  pcrs?: PcrValues | Uint8Array | Record<string, Record<string, string>>;
  /** Expected qualifyingData. Pass an empty array to require an empty nonce. */
  nonce?: Uint8Array;
}

export interface VerifyQuoteOptions {
  /** Accept SHA-1 signatures (legacy Windows / TPM firmware). Default false. */
  allowSha1?: boolean;
  /** Require a restricted, fixedTPM signing key when the AK is a TPM public area. Default true. */
  requireRestricted?: boolean;
  /** Smallest RSA AK modulus accepted, in bits. Default 2048; a lower value is shown in the `ak.keySize` check. */
  minRsaBits?: number;
  /**
   * What proves the AK public area's attributes: a validated AK certificate or a credential activation done by the
   * caller. Without it the attributes are only what the document says: `ak.attributes` is not a passed check.
   */
  akAttributesProvenBy?: 'certificate' | 'credential';
  /** Clock state of an earlier quote from the same TPM: resets, restarts and a clock going back are refused. */
  previous?: { resetCount: number; restartCount: number; clock: bigint };
}

export interface QuoteVerification {
  attest: Attest;
  quote: QuoteInfo;
  signature: Signature;
  ak: AkKey;
  /** The quoted PCR values, present only when they were supplied and matched the digest. */
  pcrs?: PcrValues;
  checks: Check<QuoteCheckId>[];
  /** True when every check ran (nothing was skipped for lack of input). */
  complete: boolean;
}

/** Detail prefix of an `ak.attributes` check that only the document supports. */
export const UNPROVEN_ATTRIBUTES = 'not proven: only the document\'s AK public area says';

const ATTRIBUTES_UNKNOWN = 'attributes unknown';

/**
 * The `ak.attributes` check once a validated AK certificate with the TCG AK/EK EKU vouches for the key: the
 * property then comes from the certificate. A check that failed or was disabled by option is left as it is.
 */
export function attributesFromCertificate<Id extends string>(checks: Check<Id>[], eku: string[]): Check<Id>[] {
  const vouched = eku.includes('2.23.133.8.3') || eku.includes('2.23.133.8.1');
  return checks.map((c) => {
    if (c.id !== 'ak.attributes' || c.ok !== null || !vouched) return c;
    if (c.source === 'document') return { id: c.id, ok: true, detail: 'restricted, sign, fixedTPM (proven by the AK certificate\'s TCG EKU; the public area agrees)', source: 'certificate' as const };
    if (c.detail.startsWith(ATTRIBUTES_UNKNOWN)) return { id: c.id, ok: true, detail: 'a TPM attestation key (proven by the AK certificate\'s TCG EKU)', source: 'certificate' as const };
    return c;
  });
}

const ALLOWED_HASHES = [TPM_ALG.SHA256, TPM_ALG.SHA384, TPM_ALG.SHA512] as number[];

/** Accumulates checks; a failed check throws a VerificationError that carries the checks so far. */
class Report {
  readonly checks: Check<QuoteCheckId>[] = [];
  pass(id: QuoteCheckId, detail: string, source?: Check['source']): void {
    this.checks.push({ id, ok: true, detail, ...(source ? { source } : {}) });
  }
  skip(id: QuoteCheckId, detail: string, source?: Check['source']): void {
    this.checks.push({ id, ok: null, detail, ...(source ? { source } : {}) });
  }
  fail(id: QuoteCheckId, code: VerificationCode, detail: string, extra: Record<string, unknown> = {}): never {
    this.checks.push({ id, ok: false, detail });
    throw new VerificationError(code, detail, { ...extra, checks: this.checks });
  }
}

/** Normalises the supplied PCR values to a map. */
export function normalisePcrs(pcrs: NonNullable<VerifyQuoteInput['pcrs']>, selection: PcrBankSelection[]): PcrValues {
  if (pcrs instanceof Map) return pcrs;
  if (pcrs instanceof Uint8Array) return isTpm2ToolsPcrFile(pcrs) ? parseTpm2ToolsPcrFile(pcrs).values : splitConcatenatedPcrs(pcrs, selection);
  if (typeof pcrs === 'object') return pcrValuesFromJson(pcrs);
  throw new TypeError('pcrs must be a Map, bytes or a JSON object');
}

/** A private copy of the supplied PCR values (Maps and byte values copied, JSON maps copied two levels deep). */
function copyPcrsInput(pcrs: VerifyQuoteInput['pcrs']): VerifyQuoteInput['pcrs'] {
  if (pcrs instanceof Map) return new Map([...pcrs].map(([b, m]) => [b, m instanceof Map ? new Map([...m].map(([i, v]) => [i, v instanceof Uint8Array ? v.slice() : v])) : m]));
  if (pcrs instanceof Uint8Array) return pcrs.slice();
  if (typeof pcrs === 'object' && pcrs !== null) return Object.fromEntries(Object.entries(pcrs).map(([b, m]) => [b, typeof m === 'object' && m !== null ? { ...m } : m]));
  return pcrs;
}

/** True when the supplied values cover exactly the selected PCRs, bank by bank. */
function sameSelection(values: PcrValues, selection: PcrBankSelection[]): boolean {
  const selBanks = selection.filter((s) => s.pcrs.length > 0);
  const valBanks = [...values].filter(([, m]) => m.size > 0);
  if (selBanks.length !== valBanks.length) return false;
  return selBanks.every((s) => {
    const m = values.get(s.hashAlg);
    return !!m && m.size === s.pcrs.length && s.pcrs.every((p) => m.has(p));
  });
}

/** PCR digest: H_sig(PCR values in selection order), with the signature's hash (go-tpm-tools quote.go). */
export function computePcrDigest(values: PcrValues, selection: PcrBankSelection[], hashAlg: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of selection) for (const p of s.pcrs) parts.push(values.get(s.hashAlg)!.get(p)!);
  return hash(hashAlg, concat(...parts));
}

/** Judges whether the signature scheme is the one the AK is bound to. */
function checkScheme(rep: Report, ak: AkKey, sig: Signature): 'rsassa' | 'rsapss' | 'ecdsa' {
  const k = ak.material.kty;
  const s = sig.scheme;
  const keyScheme = ak.tpmPublic && 'scheme' in ak.tpmPublic.params ? ak.tpmPublic.params.scheme : undefined;
  if (k === 'RSA' && s !== 'rsassa' && s !== 'rsapss') rep.fail('signature.scheme', 'SIGNATURE_SCHEME_MISMATCH', `${s} signature from an RSA key`);
  if (k === 'EC' && s !== 'ecdsa') rep.fail('signature.scheme', 'SIGNATURE_SCHEME_MISMATCH', `${s} signature from an EC key (only ECDSA is accepted)`);
  if (keyScheme && keyScheme.alg !== TPM_ALG.NULL) {
    // The TPM signs only with the scheme fixed in a restricted key's public area.
    if (keyScheme.alg !== sig.sigAlg || keyScheme.hashAlg !== (sig as { hashAlg: number }).hashAlg) {
      rep.fail('signature.scheme', 'SIGNATURE_SCHEME_MISMATCH', `signature is ${s}/${hashName((sig as { hashAlg: number }).hashAlg)} but the AK is bound to scheme 0x${keyScheme.alg.toString(16)}/${hashName(keyScheme.hashAlg ?? 0)}`);
    }
  } else if (s === 'rsapss') {
    rep.fail('signature.scheme', 'SIGNATURE_SCHEME_MISMATCH', 'RSAPSS is accepted only when the AK public area names the RSAPSS scheme');
  }
  rep.pass('signature.scheme', `${s.toUpperCase()} matches the ${describeKey(ak.material)} AK${keyScheme && keyScheme.alg !== TPM_ALG.NULL ? ' and its bound scheme' : ''}`);
  return s as 'rsassa' | 'rsapss' | 'ecdsa';
}

/** Default smallest RSA AK modulus (NIST SP 800-57 Part 1 Rev. 5, Table 2: RSA-2048 for 112-bit security). */
export const MIN_RSA_BITS = 2048;

/** Bit length of an RSA modulus or EC key. */
export function keyBits(k: AkKey['material']): number {
  if (k.kty === 'EC') return { 'P-256': 256, 'P-384': 384, 'P-521': 521 }[k.crv];
  let i = 0;
  while (i < k.n.length - 1 && k.n[i] === 0) i++;
  return (k.n.length - i - 1) * 8 + (32 - Math.clz32(k.n[i]!));
}

/** The AK is at least RSA-`min` (default 2048) or P-256; a relaxed minimum is named in the passed check. */
function checkKeySize(rep: Report, ak: AkKey, min = MIN_RSA_BITS): void {
  if (!Number.isInteger(min) || min < 512) throw new TypeError('options.minRsaBits must be an integer >= 512');
  const bits = keyBits(ak.material);
  if (ak.material.kty === 'RSA' && bits < min) rep.fail('ak.keySize', 'KEY_TOO_SMALL', `the AK is RSA-${bits}; at least RSA-${min} is required`);
  // An exponent of 1 (or an even one) makes the AK's signatures worthless, whatever its size.
  const badExponent = rsaExponentProblem(ak.material);
  if (badExponent) rep.fail('ak.keySize', 'KEY_EXPONENT_INVALID', `the AK's ${badExponent}`);
  const relaxed = ak.material.kty === 'RSA' && min < MIN_RSA_BITS ? ` (minimum relaxed by option to RSA-${min})` : '';
  rep.pass('ak.keySize', `${describeKey(ak.material)} is at least ${ak.material.kty === 'RSA' ? `RSA-${min}` : 'P-256'}${relaxed}`);
}

/** Verifies a TPM2_Quote. Resolves with the decoded quote and its checks; throws VerificationError on any failure. */
export async function verifyQuote(input: VerifyQuoteInput, options: VerifyQuoteOptions = {}): Promise<QuoteVerification> {
  if (!input || typeof input !== 'object') throw new TypeError('verifyQuote expects an input object');
  assertBytes(input.attest, 'attest');
  assertBytes(input.signature, 'signature');
  if (input.nonce !== undefined) assertBytes(input.nonce, 'nonce');
  // Copy inputs before any await, so a caller mutating buffers cannot change what was checked (or what is returned).
  const attestBytes = input.attest.slice();
  const nonce = input.nonce?.slice();
  const pcrsIn = copyPcrsInput(input.pcrs);
  const rep: Report = new Report();
  // Parse: structure errors are MalformedInputError.
  const attest = parseAttest(attestBytes);
  const sig = parseSignature(input.signature.slice());
  const ak = typeof input.akPublic === 'object' && 'material' in input.akPublic ? input.akPublic : loadAkPublic(input.akPublic as Uint8Array);

  // TPM_GENERATED: only the TPM writes this magic into structures it signs.
  if (attest.magic !== TPM_GENERATED) rep.fail('attest.magic', 'MAGIC_INVALID', `magic is 0x${attest.magic.toString(16)}, not TPM_GENERATED 0xff544347`);
  rep.pass('attest.magic', 'TPM_GENERATED (0xff544347)');
  // Type: must be a quote, not a certify/creation/... structure signed by the same key.
  const attested = attest.attested;
  if (attest.type !== TPM_ST.ATTEST_QUOTE || attested.kind !== 'quote') {
    rep.fail('attest.type', 'ATTEST_TYPE_INVALID', `attestation type is ${attest.typeName} (0x${attest.type.toString(16)}), not quote (0x8018)`);
  }
  const quote = attested.quote;
  rep.pass('attest.type', 'TPM_ST_ATTEST_QUOTE (0x8018)');

  // AK size: RSA below the minimum (default 2048 bits) is refused; every supported curve is P-256 or larger.
  checkKeySize(rep, ak, options.minRsaBits);

  // AK attributes: a non-restricted key could sign a forged TPMS_ATTEST.
  const requireRestricted = options.requireRestricted ?? true;
  if (ak.tpmPublic) {
    const a = ak.tpmPublic.attributes;
    const missing = [!a.restricted && 'restricted', !a.sign && 'sign', !a.fixedTPM && 'fixedTPM'].filter(Boolean);
    if (a.decrypt) missing.push('not decrypt');
    if (missing.length && requireRestricted) rep.fail('ak.attributes', 'AK_NOT_RESTRICTED_SIGNING', `AK is not a restricted signing key (missing: ${missing.join(', ')})`);
    if (missing.length) rep.skip('ak.attributes', `restricted-key check disabled by option (missing: ${missing.join(', ')})`);
    else if (options.akAttributesProvenBy) rep.pass('ak.attributes', `restricted, sign, fixedTPM (proven by ${options.akAttributesProvenBy === 'credential' ? 'a credential activation' : 'the AK certificate'})`, options.akAttributesProvenBy);
    // A public area is not signed by anything: a software key can claim any attributes.
    else rep.skip('ak.attributes', `${UNPROVEN_ATTRIBUTES}: restricted, sign, fixedTPM`, 'document');
  } else {
    rep.skip('ak.attributes', `${ATTRIBUTES_UNKNOWN} (AK given as ${ak.source}; pass TPMT_PUBLIC/TPM2B_PUBLIC to check restricted)`);
  }

  // Scheme and hash: tie the scheme to the key type and the AK's public area; refuse weak hashes.
  if (sig.scheme === 'null' || sig.scheme === 'hmac') rep.fail('signature.scheme', 'SIGNATURE_SCHEME_MISMATCH', `signature algorithm ${sig.scheme} cannot attest`);
  const scheme = checkScheme(rep, ak, sig);
  const hashAlg = sig.hashAlg;
  const allowed = options.allowSha1 ? [TPM_ALG.SHA1, ...ALLOWED_HASHES] : ALLOWED_HASHES;
  if (!allowed.includes(hashAlg) || !hashInfo(hashAlg)?.webcrypto) {
    rep.fail('signature.hash', 'HASH_NOT_ALLOWED', `signature hash ${hashName(hashAlg)} is not allowed${hashAlg === TPM_ALG.SHA1 ? ' (pass allowSha1 to accept SHA-1)' : ''}`);
  }
  rep.pass('signature.hash', hashName(hashAlg));

  // Signature over the exact TPMS_ATTEST bytes.
  const raw = sig.scheme === 'ecdsa' ? { scheme, hashAlg, r: sig.r, s: sig.s } : { scheme, hashAlg, sig: (sig as { sig: Uint8Array }).sig };
  if (!(await verifySignature(ak.material, raw, attestBytes))) rep.fail('signature', 'SIGNATURE_INVALID', `${scheme.toUpperCase()}-${hashName(hashAlg)} signature does not verify with the ${describeKey(ak.material)} AK`);
  rep.pass('signature', `${scheme.toUpperCase()}-${hashName(hashAlg)} signature verifies with the ${describeKey(ak.material)} AK`);

  // Nonce: qualifyingData must equal the caller's fresh nonce (constant time).
  if (nonce === undefined) rep.skip('nonce', `no nonce given; quote carries ${attest.extraData.length} bytes of qualifying data`);
  else if (!constantTimeEqual(attest.extraData, nonce)) rep.fail('nonce', 'NONCE_MISMATCH', 'qualifying data does not equal the expected nonce', { expected: toHex(nonce), actual: toHex(attest.extraData) });
  else rep.pass('nonce', `qualifying data equals the expected ${nonce.length}-byte nonce`);

  // PCRs: the supplied set must equal the selection exactly, and their digest must be the quoted one.
  let pcrs: PcrValues | undefined;
  if (pcrsIn === undefined) {
    rep.skip('pcrs', `no PCR values given; quote covers ${formatSelection(quote.pcrSelect)}`);
  } else {
    const values = normalisePcrs(pcrsIn, quote.pcrSelect);
    if (!sameSelection(values, quote.pcrSelect)) {
      rep.fail('pcrs.selection', 'PCR_SELECTION_MISMATCH', `supplied PCRs ${formatSelection([...values].map(([h, m]) => ({ hashAlg: h, pcrs: [...m.keys()].sort((a, b) => a - b) })))} differ from the quoted selection ${formatSelection(quote.pcrSelect)}`);
    }
    rep.pass('pcrs.selection', `supplied PCRs equal the quoted selection ${formatSelection(quote.pcrSelect)}`);
    const digest = computePcrDigest(values, quote.pcrSelect, hashAlg);
    if (!constantTimeEqual(digest, quote.pcrDigest)) rep.fail('pcrs.digest', 'PCR_DIGEST_MISMATCH', `${hashName(hashAlg)} over the supplied PCR values does not equal the quoted PCR digest`, { expected: toHex(quote.pcrDigest), actual: toHex(digest) });
    rep.pass('pcrs.digest', `${hashName(hashAlg)}(PCR values) equals the quoted digest ${toHex(quote.pcrDigest).slice(0, 16)}…`);
    pcrs = values;
  }

  // Clock: a reset, restart or clock going backwards since an earlier quote means a reboot or a replay.
  const ci = attest.clockInfo;
  if (options.previous) {
    const p = options.previous;
    if (ci.resetCount !== p.resetCount || ci.restartCount !== p.restartCount || ci.clock < p.clock) {
      rep.fail('clock', 'QUOTE_TIMING_REGRESSION', `TPM rebooted or quote replayed (resetCount ${p.resetCount}→${ci.resetCount}, restartCount ${p.restartCount}→${ci.restartCount}, clock ${p.clock}→${ci.clock})`);
    }
    rep.pass('clock', `same boot as the previous quote, clock advanced to ${ci.clock}`);
  }
  const complete = rep.checks.every((c) => c.ok === true);
  return { attest, quote, signature: sig, ak, ...(pcrs ? { pcrs } : {}), checks: rep.checks, complete };
}
