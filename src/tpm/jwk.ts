/**
 * JSON Web Keys (RFC 7517, RFC 7518 §6) as public key material: the form of Azure's `HCLAkPub` and of
 * `aicert quote --ak key.jwk`. Only public RSA and EC (P-256/P-384/P-521) keys; private members are refused so a
 * leaked private key is never silently accepted as "the AK". Spec: spec/confidential-vms.md §JWK.
 */
import { MalformedInputError } from '../errors.js';
import type { KeyMaterial } from './keys.js';

const CURVE_SIZE = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** Largest RSA modulus accepted (16384 bits), as elsewhere in the TPM code. */
const MAX_RSA_BYTES = 2048;

// RFC 7515 §2 / RFC 4648 §5: base64url without padding, no other characters.
/** Strict unpadded base64url -> bytes (MalformedInputError at `path` otherwise). */
export function fromBase64UrlStrict(s: unknown, path: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new MalformedInputError('not unpadded base64url', { path });
  }
  const t = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(t);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // Non-canonical trailing bits (two encodings of the same bytes) are refused.
  if (btoa(bin).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_') !== s) throw new MalformedInputError('non-canonical base64url', { path });
  return out;
}

/** An unsigned big-endian integer member (no leading zero byte unless the value is 0, RFC 7518 §2). */
function uint(v: unknown, path: string): Uint8Array {
  const b = fromBase64UrlStrict(v, path);
  if (b.length === 0) throw new MalformedInputError('empty integer', { path });
  if (b.length > 1 && b[0] === 0) throw new MalformedInputError('integer has a leading zero byte', { path });
  return b;
}

/** Public key material from a parsed JWK object. `path` names the object for error messages. */
export function materialFromJwk(jwk: unknown, path = 'jwk'): KeyMaterial {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new MalformedInputError('JWK must be an object', { path });
  const k = jwk as Record<string, unknown>;
  const priv = PRIVATE_MEMBERS.filter((m) => m in k);
  if (priv.length) throw new MalformedInputError(`JWK carries private key members (${priv.join(', ')}); give the public key only`, { path });
  if (k.kty === 'RSA') {
    const n = uint(k.n, `${path}.n`);
    const e = uint(k.e, `${path}.e`);
    if (n.length > MAX_RSA_BYTES) throw new MalformedInputError('RSA modulus too large', { path: `${path}.n` });
    if (e.length > 4) throw new MalformedInputError('RSA exponent longer than 32 bits', { path: `${path}.e` });
    return { kty: 'RSA', n, e };
  }
  if (k.kty === 'EC') {
    const crv = k.crv;
    if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') throw new MalformedInputError(`unsupported EC curve ${JSON.stringify(crv)}`, { path: `${path}.crv` });
    const size = CURVE_SIZE[crv];
    const x = fromBase64UrlStrict(k.x, `${path}.x`);
    const y = fromBase64UrlStrict(k.y, `${path}.y`);
    // RFC 7518 §6.2.1.2: coordinates are exactly the field size.
    if (x.length !== size || y.length !== size) throw new MalformedInputError(`EC coordinates must be ${size} bytes`, { path });
    return { kty: 'EC', crv, x, y };
  }
  throw new MalformedInputError(`unsupported JWK kty ${JSON.stringify(k.kty)}`, { path: `${path}.kty` });
}

/** A JWK's `key_ops` allows signature verification by its holder: absent, or containing "sign" or "verify". */
export function jwkMaySign(jwk: Record<string, unknown>): boolean {
  const ops = jwk.key_ops;
  if (ops === undefined) return jwk.use === undefined || jwk.use === 'sig';
  return Array.isArray(ops) && (ops.includes('sign') || ops.includes('verify'));
}
