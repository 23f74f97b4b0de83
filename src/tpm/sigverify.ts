/**
 * Signature verification over WebCrypto (works in Node ≥ 20 and browsers). WebCrypto ECDSA accepts high-S
 * signatures, which TPMs emit about half the time. Imported keys are cached for batch verification.
 */
import { concat, toBase64Url as b64url, toHex } from '../util/bytes.js';
import { hashInfo } from '../util/hash.js';
import { VerificationError } from '../errors.js';
import { leftPad, rsaExponentProblem, type KeyMaterial } from './keys.js';

export type SigScheme = 'rsassa' | 'rsapss' | 'ecdsa';

const cache = new Map<string, Promise<CryptoKey>>();
const CACHE_MAX = 256;

/** WebCrypto's SubtleCrypto, or an Error naming what the runtime lacks. */
export function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

/** Imports (or reuses) a verification key for a scheme and hash. */
function importKey(key: KeyMaterial, scheme: SigScheme, hash: string): Promise<CryptoKey> {
  const id = key.kty === 'RSA' ? `${scheme}:${hash}:${toHex(key.n)}:${toHex(key.e)}` : `${scheme}:${key.crv}:${toHex(key.x)}${toHex(key.y)}`;
  let p = cache.get(id);
  if (!p) {
    const jwk: JsonWebKey =
      key.kty === 'RSA' ? { kty: 'RSA', n: b64url(key.n), e: b64url(key.e), ext: true } : { kty: 'EC', crv: key.crv, x: b64url(key.x), y: b64url(key.y), ext: true };
    const alg =
      scheme === 'ecdsa' && key.kty === 'EC'
        ? { name: 'ECDSA', namedCurve: key.crv }
        : { name: scheme === 'rsapss' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash };
    p = subtle().importKey('jwk', jwk, alg, false, ['verify']);
    p.catch(() => cache.delete(id));
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(id, p);
  }
  return p;
}

export interface RawSignature {
  scheme: SigScheme;
  hashAlg: number;
  /** RSA signature bytes. */
  sig?: Uint8Array;
  /** ECDSA r and s. */
  r?: Uint8Array;
  s?: Uint8Array;
}

/**
 * Verifies a signature over `data` (WebCrypto hashes it). Returns false for a bad signature; throws TypeError
 * only for a hash WebCrypto cannot do (callers reject those earlier), and KEY_EXPONENT_INVALID for an RSA key whose
 * exponent makes signatures forgeable (spec/verification.md §2a).
 */
export async function verifySignature(key: KeyMaterial, sig: RawSignature, data: Uint8Array): Promise<boolean> {
  const h = hashInfo(sig.hashAlg)?.webcrypto;
  if (!h) throw new TypeError(`hash 0x${sig.hashAlg.toString(16)} is not available in WebCrypto`);
  // An unusable exponent (e = 1 verifies any padded message) is refused before any signature is looked at.
  const bad = rsaExponentProblem(key);
  if (bad) throw new VerificationError('KEY_EXPONENT_INVALID', bad);
  const buf = data.slice();
  try {
    if (sig.scheme === 'ecdsa') {
      if (key.kty !== 'EC' || !sig.r || !sig.s) return false;
      // r and s are at most the curve size as sent: a longer value (even with leading zero bytes) fails.
      const n = key.x.length;
      if (sig.r.length > n || sig.s.length > n) return false;
      const r = leftPad(sig.r, n);
      const s = leftPad(sig.s, n);
      if (!r || !s) return false;
      const k = await importKey(key, 'ecdsa', h);
      return await subtle().verify({ name: 'ECDSA', hash: h }, k, concat(r, s), buf);
    }
    if (key.kty !== 'RSA' || !sig.sig) return false;
    const k = await importKey(key, sig.scheme, h);
    if (sig.scheme === 'rsassa') return await subtle().verify({ name: 'RSASSA-PKCS1-v1_5' }, k, sig.sig.slice(), buf);
    // RSAPSS: TPMs use a salt as long as the digest (Part 1 §B.7); older ones use the maximum salt.
    const hLen = hashInfo(sig.hashAlg)!.size;
    const maxSalt = key.n.length - hLen - 2;
    for (const saltLength of hLen === maxSalt ? [hLen] : [hLen, maxSalt]) {
      if (saltLength < 0) continue;
      if (await subtle().verify({ name: 'RSA-PSS', saltLength }, k, sig.sig.slice(), buf)) return true;
    }
    return false;
  } catch {
    // WebCrypto throws on structurally impossible signatures (wrong length etc.): that is a failed verification.
    return false;
  }
}
