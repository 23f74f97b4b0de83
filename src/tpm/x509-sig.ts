/**
 * Certificate signature verification through WebCrypto (no Node APIs). Imported issuer keys and verdicts are
 * cached: keys by (SPKI sha256, algorithm), verdicts by (issuer SPKI sha256, certificate sha256).
 * ECDSA: WebCrypto accepts high-S signatures (as X.509 requires; about half of OpenSSL's signatures are high-S),
 * so unlike @noble/curves' default no low-S rule is applied.
 */
import { decodeOid, readTlv, readTlvs } from './x509-der.js';
import type { ParsedCert } from './x509-cert.js';

const HASH_BY_OID: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};
const RSA_PKCS1: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'SHA-256',
  '1.2.840.113549.1.1.12': 'SHA-384',
  '1.2.840.113549.1.1.13': 'SHA-512',
};
const ECDSA: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'SHA-256',
  '1.2.840.10045.4.3.3': 'SHA-384',
  '1.2.840.10045.4.3.4': 'SHA-512',
};
const CURVES: Record<string, { name: string; size: number }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', size: 32 },
  '1.3.132.0.34': { name: 'P-384', size: 48 },
  '1.3.132.0.35': { name: 'P-521', size: 66 },
};
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_RSA_PSS = '1.2.840.113549.1.1.10';
const OID_MGF1 = '1.2.840.113549.1.1.8';
const OID_EC = '1.2.840.10045.2.1';
/** Smallest RSA modulus accepted for a certificate-signing key. */
export const MIN_RSA_BITS = 2048;

export interface SigVerdict {
  ok: boolean;
  reason?: string;
}

const MAX_CACHE = 8192;
const verdicts = new Map<string, SigVerdict>();
const keys = new Map<string, Promise<CryptoKey>>();

/** Forgets cached keys and verdicts. */
export function clearSignatureCache(): void {
  verdicts.clear();
  keys.clear();
}

/** Verifies `cert`'s signature with `issuer`'s public key (cached). Never throws for bad signatures. */
export async function verifyCertSignature(cert: ParsedCert, issuer: ParsedCert): Promise<SigVerdict> {
  const id = `${issuer.spkiSha256}:${cert.sha256}`;
  const hit = verdicts.get(id);
  if (hit) return hit;
  const v = await verifyUncached(cert, issuer);
  if (verdicts.size >= MAX_CACHE) verdicts.clear();
  verdicts.set(id, v);
  return v;
}

type Scheme = { key: RsaHashedImportParams | EcKeyImportParams; verify: AlgorithmIdentifier | RsaPssParams | EcdsaParams; ecSize?: number };

// RFC 4055 §3.1 (RSASSA-PSS parameters), RFC 5758 §3.2 (ECDSA), RFC 4055 §5 (PKCS#1 v1.5 with SHA-2)
/** Maps the certificate's signature algorithm and the issuer's key to WebCrypto parameters. */
async function scheme(cert: ParsedCert, issuer: ParsedCert): Promise<Scheme | string> {
  const oid = cert.sigAlgOid;
  // Parameters: NULL or absent for PKCS#1 v1.5 (RFC 4055 §5), absent for ECDSA (RFC 5758 §3.2).
  const params = readTlvs(readTlv(cert.sigAlgDer, 'signatureAlgorithm', 0x30).body, 'signatureAlgorithm').slice(1);
  const rsaHash = RSA_PKCS1[oid];
  if (rsaHash) {
    if (params.length > 1 || (params[0] && (params[0].tag !== 0x05 || params[0].body.length))) return 'bad RSA signature parameters';
    if (issuer.keyAlgOid !== OID_RSA) return 'RSA signature but the issuer key is not RSA';
    return { key: { name: 'RSASSA-PKCS1-v1_5', hash: rsaHash }, verify: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  if (oid === OID_RSA_PSS) {
    if (issuer.keyAlgOid !== OID_RSA) return 'RSA-PSS signature but the issuer key is not rsaEncryption';
    const p = params.length === 1 && params[0]!.tag === 0x30 ? pssParams(params[0]!.body) : undefined;
    if (!p) return 'bad RSASSA-PSS parameters';
    if (typeof p === 'string') return p;
    return { key: { name: 'RSA-PSS', hash: p.hash }, verify: { name: 'RSA-PSS', saltLength: p.saltLength } };
  }
  const ecHash = ECDSA[oid];
  if (ecHash) {
    if (params.length) return 'ECDSA signature algorithm must not have parameters';
    const curve = issuer.curveOid ? CURVES[issuer.curveOid] : undefined;
    if (issuer.keyAlgOid !== OID_EC || !curve) return 'ECDSA signature but the issuer key is not P-256/P-384/P-521';
    return { key: { name: 'ECDSA', namedCurve: curve.name }, verify: { name: 'ECDSA', hash: ecHash }, ecSize: curve.size };
  }
  return `signature algorithm ${oid} is not supported (SHA-1 and others are refused)`;
}

// RFC 4055 §3.1: RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1] DEFAULT
// mgf1SHA1, saltLength [2] INTEGER DEFAULT 20, trailerField [3] INTEGER DEFAULT 1 }, each field explicitly tagged.
/**
 * Decodes RSASSA-PSS-params with the project's DER reader. Returns the WebCrypto hash and salt length, a reason
 * string for parameters WebCrypto cannot express (SHA-1, MGF1 over another hash, trailer ≠ 1), or undefined when
 * malformed. Fields must appear in order, at most once; absent fields take their defaults.
 */
export function pssParams(body: Uint8Array): { hash: string; saltLength: number } | string | undefined {
  let fields;
  try {
    fields = readTlvs(body, 'RSASSA-PSS-params');
  } catch {
    return undefined;
  }
  let hashOid = '1.3.14.3.2.26';
  let mgfOid = OID_MGF1;
  let mgfHashOid: string | undefined = '1.3.14.3.2.26';
  let salt = 20;
  let trailer = 1;
  let last = -1;
  try {
    for (const f of fields) {
      const n = f.tag - 0xa0;
      // explicit [0]..[3], strictly increasing
      if (n < 0 || n > 3 || n <= last) return undefined;
      last = n;
      const inner = readTlv(f.body, `RSASSA-PSS-params[${n}]`);
      if (n === 0) hashOid = algorithmOid(inner);
      else if (n === 1) {
        const parts = readTlvs(readTlv(inner.full, 'maskGenAlgorithm', 0x30).body, 'maskGenAlgorithm');
        mgfOid = decodeOid(readTlv(parts[0]?.full ?? new Uint8Array(), 'mgf', 0x06).body);
        mgfHashOid = parts.length === 2 ? algorithmOid(parts[1]!) : undefined;
        if (parts.length > 2) return undefined;
      } else {
        const v = smallInteger(inner);
        if (v === undefined) return undefined;
        if (n === 2) salt = v;
        else trailer = v;
      }
    }
  } catch {
    return undefined;
  }
  const hash = HASH_BY_OID[hashOid];
  // WebCrypto fixes MGF1 to the message hash, so any other combination is refused rather than guessed.
  if (!hash || mgfOid !== OID_MGF1 || !mgfHashOid || HASH_BY_OID[mgfHashOid] !== hash) return 'RSASSA-PSS parameters other than SHA-2 with matching MGF1 are not supported';
  if (trailer !== 1 || salt > 1024) return 'bad RSASSA-PSS trailer or salt length';
  return { hash, saltLength: salt };
}

/** The OID of an AlgorithmIdentifier SEQUENCE { OID, parameters NULL or absent }. */
function algorithmOid(t: { tag: number; body: Uint8Array }): string {
  if (t.tag !== 0x30) throw new Error('not a SEQUENCE');
  const parts = readTlvs(t.body, 'AlgorithmIdentifier');
  if (parts.length < 1 || parts.length > 2 || parts[0]!.tag !== 0x06) throw new Error('bad AlgorithmIdentifier');
  if (parts[1] && (parts[1].tag !== 0x05 || parts[1].body.length)) throw new Error('hash parameters must be NULL');
  return decodeOid(parts[0]!.body);
}

/** A non-negative DER INTEGER below 2^31 (minimal encoding), or undefined. */
function smallInteger(t: { tag: number; body: Uint8Array }): number | undefined {
  const b = t.body;
  if (t.tag !== 0x02 || b.length === 0 || b.length > 4 || b[0]! & 0x80) return undefined;
  if (b.length > 1 && b[0] === 0 && !(b[1]! & 0x80)) return undefined;
  return b.reduce((v, x) => v * 256 + x, 0);
}

/** Imports (once) the issuer's SPKI for the given scheme. */
function importKey(issuer: ParsedCert, s: Scheme): Promise<CryptoKey> {
  const id = `${issuer.spkiSha256}|${JSON.stringify(s.key)}`;
  let k = keys.get(id);
  if (!k) {
    k = globalThis.crypto.subtle.importKey('spki', issuer.spki as Uint8Array<ArrayBuffer>, s.key, false, ['verify']);
    // A failed import must not stay cached as a rejected promise forever.
    k.catch(() => keys.delete(id));
    if (keys.size >= MAX_CACHE) keys.clear();
    keys.set(id, k);
  }
  return k;
}

async function verifyUncached(cert: ParsedCert, issuer: ParsedCert): Promise<SigVerdict> {
  // Step 1: algorithm and key must agree.
  const s = await scheme(cert, issuer);
  if (typeof s === 'string') return { ok: false, reason: s };
  let key: CryptoKey;
  try {
    key = await importKey(issuer, s);
  } catch (e) {
    return { ok: false, reason: `issuer public key could not be imported: ${(e as Error).message}` };
  }
  // Step 2: RSA issuer keys below the minimum size are refused.
  const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
  if (typeof bits === 'number' && bits < MIN_RSA_BITS) return { ok: false, reason: `RSA issuer key of ${bits} bits` };
  // Step 3: ECDSA signatures arrive DER-encoded; WebCrypto wants r||s of fixed width.
  let sig: Uint8Array | undefined = cert.signature;
  if (s.ecSize !== undefined) sig = ecdsaDerToRaw(cert.signature, s.ecSize);
  if (!sig) return { ok: false, reason: 'malformed ECDSA signature' };
  try {
    const ok = await globalThis.crypto.subtle.verify(s.verify, key, sig as Uint8Array<ArrayBuffer>, cert.tbs as Uint8Array<ArrayBuffer>);
    return ok ? { ok } : { ok, reason: 'signature does not verify' };
  } catch (e) {
    return { ok: false, reason: `signature verification failed: ${(e as Error).message}` };
  }
}

// RFC 5480 §2.2.3 / SEC 1 §C.5: Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
/** DER ECDSA signature -> r||s (each `size` bytes); undefined unless it is strict DER with 0 < r, s < 2^(8*size). */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const ints = readTlvs(readTlv(der, 'ECDSA signature', 0x30).body, 'ECDSA signature');
    if (ints.length !== 2) return undefined;
    const out = new Uint8Array(2 * size);
    for (let k = 0; k < 2; k++) {
      const t = ints[k]!;
      let b = t.body;
      // Positive, minimally encoded INTEGER only.
      if (t.tag !== 0x02 || b.length === 0 || (b[0]! & 0x80) !== 0) return undefined;
      if (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) return undefined;
      if (b[0] === 0) b = b.subarray(1);
      if (b.length > size || b.length === 0) return undefined;
      out.set(b, k * size + size - b.length);
    }
    return out;
  } catch {
    return undefined;
  }
}
