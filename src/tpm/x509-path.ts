/**
 * Certification path building and validation (RFC 5280 §6, the subset AK certificates need): depth-first search
 * from the target certificate through a pool of candidate issuers to a configured trust anchor, checking every
 * edge (validity, critical extensions, CA constraints, signature) before descending. Issuer names are matched
 * by exact DER (as Go's crypto/x509 and most TPM verifiers do), refined by AKI/SKI when both are present.
 */
import { VerificationError, type VerificationCode } from '../errors.js';
import { bytesEqual } from '../util/bytes.js';
import { materialFromSpki, rsaBits, rsaExponentProblem } from './keys.js';
import type { ParsedCert } from './x509-cert.js';
import { verifyCertSignature } from './x509-sig.js';

/** Longest path accepted, counting the target and the anchor. */
export const MAX_PATH_LENGTH = 8;
/** Most candidate edges tried in one search (bounds the work on hostile certificate pools). */
export const MAX_EDGES = 64;

export interface PathInput {
  anchors: ParsedCert[];
  pool: ParsedCert[];
  at: Date;
}

export interface BuiltPath {
  /** Target first, the configured anchor itself last (a target that is itself an anchor gives a path of one). */
  path: ParsedCert[];
  anchor: ParsedCert;
  /** Always 'der': a path ends only at the configured anchor certificate itself (kept for compatibility). */
  anchorMatch: 'der' | 'subject+key';
  /** Given certificates that carried an anchor's subject and key but were not the anchor: set aside, never used. */
  anchorCopies: number;
}

/** A failure with the path length at which it happened; deeper failures explain more. */
class Attempt {
  constructor(
    readonly error: VerificationError,
    readonly depth: number,
  ) {}
}

function fail(code: VerificationCode, message: string, cert: ParsedCert): never {
  throw new VerificationError(code, message, { subject: cert.subject, sha256: cert.sha256 });
}

/** RFC 5280 §6.1.3 (a)(2): the certificate must be valid at `at` (notBefore <= at <= notAfter). */
export function checkValidity(c: ParsedCert, at: Date, role: string): void {
  const t = at.getTime();
  if (t < c.notBefore.getTime()) fail('CERT_NOT_YET_VALID', `${role} "${c.subject}" is not valid before ${c.notBefore.toISOString()}`, c);
  if (t > c.notAfter.getTime()) fail('CERT_EXPIRED', `${role} "${c.subject}" expired at ${c.notAfter.toISOString()}`, c);
}

/** RFC 5280 §6.1.4 (o): no critical extension may remain unprocessed. */
export function checkCritical(c: ParsedCert, role: string): void {
  if (c.ext.unhandledCritical.length) {
    fail('CERT_UNHANDLED_CRITICAL_EXTENSION', `${role} "${c.subject}" has unhandled critical extension(s) ${c.ext.unhandledCritical.join(', ')}`, c);
  }
}

/** Smallest RSA key of a certificate authority on a path (the AK minimum, spec/ak-certificates.md §Keys). */
export const MIN_CA_RSA_BITS = 2048;
const OID_RSA = '1.2.840.113549.1.1.1';

/** Every RSA key on a path has a usable exponent, and an issuer's RSA key is at least MIN_CA_RSA_BITS. */
export function checkKey(c: ParsedCert, role: 'certificate' | 'issuer'): void {
  if (c.keyAlgOid !== OID_RSA) return;
  let key;
  try {
    key = materialFromSpki(c.spki);
  } catch {
    fail('CERT_CHAIN_INVALID', `${role} "${c.subject}" carries an unreadable RSA key`, c);
  }
  const bad = rsaExponentProblem(key);
  if (bad) fail('KEY_EXPONENT_INVALID', `${role} "${c.subject}": ${bad}`, c);
  const bits = rsaBits(key);
  if (role === 'issuer' && bits < MIN_CA_RSA_BITS) fail('KEY_TOO_SMALL', `issuer "${c.subject}" has an RSA-${bits} key; at least RSA-${MIN_CA_RSA_BITS} is required`, c);
}

/** True when the certificate names itself as issuer. */
export function selfIssued(c: ParsedCert): boolean {
  return bytesEqual(c.subjectDer, c.issuerDer);
}

// RFC 5280 §6.1.4 (k), (l), (m), (n): an issuer must be a CA, may sign certificates, and its pathLen must hold.
function checkIssuer(issuer: ParsedCert, below: ParsedCert[]): void {
  const bc = issuer.ext.basicConstraints;
  // Version 1 certificates carry no extensions; only a v3 CA with cA=TRUE may issue.
  if (!bc?.ca) fail('CERT_CONSTRAINTS_INVALID', `issuer "${issuer.subject}" is not a CA (basicConstraints cA is not TRUE)`, issuer);
  const ku = issuer.ext.keyUsage;
  if (ku && !ku.keyCertSign) fail('CERT_CONSTRAINTS_INVALID', `issuer "${issuer.subject}" keyUsage lacks keyCertSign`, issuer);
  // Intermediates between this issuer and the target (the target itself is not counted; self-issued ones neither).
  const n = below.slice(1).filter((c) => !selfIssued(c)).length;
  if (bc.pathLen !== undefined && n > bc.pathLen) {
    fail('CERT_CONSTRAINTS_INVALID', `issuer "${issuer.subject}" pathLenConstraint ${bc.pathLen} exceeded by ${n} intermediate(s)`, issuer);
  }
}

/** The configured anchor this certificate is, if any: the exact certificate (DER), nothing else. */
function matchAnchor(c: ParsedCert, anchors: ParsedCert[]): ParsedCert | undefined {
  return anchors.find((a) => a.sha256 === c.sha256);
}

/** The anchor whose subject and key this certificate repeats without being it (a copy with its own validity). */
function anchorCopyOf(c: ParsedCert, anchors: ParsedCert[]): ParsedCert | undefined {
  if (matchAnchor(c, anchors)) return undefined;
  return anchors.find((a) => a.spkiSha256 === c.spkiSha256 && bytesEqual(a.subjectDer, c.subjectDer));
}

/** RFC 5280 §4.2.1.10: nameConstraints are not evaluated here, so a path that carries them is refused. */
export function checkNameConstraints(c: ParsedCert, role: string): void {
  if (c.ext.nameConstraints) fail('CERT_CONSTRAINTS_INVALID', `${role} "${c.subject}" carries nameConstraints, which this verifier does not evaluate`, c);
}

/** Candidate issuers of `c`: name match, not already on the path, AKI/SKI consistent; anchors first, no duplicates. */
function candidates(c: ParsedCert, chain: ParsedCert[], input: PathInput): ParsedCert[] {
  const seen = new Set(chain.map((x) => x.sha256));
  const out: ParsedCert[] = [];
  for (const k of [...input.anchors, ...input.pool]) {
    if (seen.has(k.sha256) || !bytesEqual(k.subjectDer, c.issuerDer)) continue;
    if (c.ext.akiKeyIdHex && k.ext.skiHex && c.ext.akiKeyIdHex !== k.ext.skiHex) continue;
    seen.add(k.sha256);
    out.push(k);
  }
  return out;
}

/**
 * Finds a valid path from `target` to a trust anchor. The target's own validity and critical extensions are
 * checked here; target-specific rules (EKU, not-a-CA) are the caller's. Throws the most informative
 * VerificationError (the one raised deepest in the search) when no path validates.
 */
export async function buildPath(target0: ParsedCert, input0: PathInput): Promise<BuiltPath> {
  // Step 0: a copy of an anchor (same subject and key, its own validity and constraints) never stands in for it:
  // copies leave the pool, and a target that copies an anchor is judged as that anchor.
  const pool = input0.pool.filter((c) => !anchorCopyOf(c, input0.anchors));
  const anchorCopies = input0.pool.length - pool.length;
  const target = anchorCopyOf(target0, input0.anchors) ?? target0;
  const input: PathInput = { ...input0, pool };
  checkCritical(target, 'certificate');
  checkNameConstraints(target, 'certificate');
  checkValidity(target, input.at, 'certificate');
  checkKey(target, 'certificate');
  let edges = 0;
  const search = async (chain: ParsedCert[]): Promise<BuiltPath> => {
    const cur = chain[chain.length - 1]!;
    // Step 1: reached a configured anchor -> done.
    if (matchAnchor(cur, input.anchors)) return { path: chain, anchor: cur, anchorMatch: 'der', anchorCopies };
    // Step 2: bounded depth, then the issuer candidates.
    if (chain.length >= MAX_PATH_LENGTH) {
      throw new Attempt(new VerificationError('CERT_CHAIN_INVALID', `no trust anchor within ${MAX_PATH_LENGTH} certificates`), chain.length);
    }
    const cands = candidates(cur, chain, input);
    if (cands.length === 0) {
      const why = selfIssued(cur) ? 'is self-issued and not a configured trust anchor' : 'has no issuer among the given, configured or embedded certificates';
      throw new Attempt(new VerificationError('CERT_UNTRUSTED_ROOT', `"${cur.subject}" ${why}`, { subject: cur.subject, issuer: cur.issuer }), chain.length);
    }
    // Step 3: try each candidate edge; keep the deepest failure.
    let best: Attempt | undefined;
    for (const issuer of cands) {
      if (++edges > MAX_EDGES) throw new Attempt(new VerificationError('CERT_CHAIN_INVALID', 'path search budget exhausted'), chain.length);
      try {
        checkCritical(issuer, 'issuer');
        checkNameConstraints(issuer, 'issuer');
        checkIssuer(issuer, chain);
        checkValidity(issuer, input.at, 'issuer');
        checkKey(issuer, 'issuer');
        const v = await verifyCertSignature(cur, issuer);
        if (!v.ok) fail('CERT_SIGNATURE_INVALID', `signature of "${cur.subject}" by "${issuer.subject}": ${v.reason ?? 'invalid'}`, cur);
        return await search([...chain, issuer]);
      } catch (e) {
        const a = e instanceof Attempt ? e : e instanceof VerificationError ? new Attempt(e, chain.length + 1) : undefined;
        if (!a) throw e;
        if (!best || a.depth > best.depth) best = a;
      }
    }
    throw best!;
  };
  try {
    return await search([target]);
  } catch (e) {
    throw e instanceof Attempt ? e.error : e;
  }
}
