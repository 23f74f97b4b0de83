/**
 * Synchronous hashes by TPM algorithm id (TPM 2.0 Library Part 2, 6.3 TPM_ALG_ID), for in-memory inputs
 * (structures, event digests, PCR extends, statements; SHA-1/2 inputs of 4 KiB or more use the runtime's node:crypto
 * where it offers one). Bulk file hashing lives in src/node/hashing.ts.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha3_256, sha3_384, sha3_512 } from '@noble/hashes/sha3.js';
import { runtimeCrypto } from './builtins.js';
import { sm3 } from './sm3.js';

export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  XOR: 0x000a,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  SM3_256: 0x0012,
  SM4: 0x0013,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECDAA: 0x001a,
  SM2: 0x001b,
  ECSCHNORR: 0x001c,
  KDF1_SP800_56A: 0x0020,
  KDF1_SP800_108: 0x0022,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  SHA3_256: 0x0027,
  SHA3_384: 0x0028,
  SHA3_512: 0x0029,
  CTR: 0x0040,
  OFB: 0x0041,
  CBC: 0x0042,
  CFB: 0x0043,
  ECB: 0x0044,
} as const;

/** Names used in reports and JSON (`sha256`, `sm3_256`, ...). */
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sm3_256' | 'sha3_256' | 'sha3_384' | 'sha3_512';

interface HashInfo {
  name: HashName;
  size: number;
  fn: (b: Uint8Array) => Uint8Array;
  /** WebCrypto name where WebCrypto supports it. */
  webcrypto?: string;
}

const HASHES = new Map<number, HashInfo>([
  [TPM_ALG.SHA1, { name: 'sha1', size: 20, fn: sha1, webcrypto: 'SHA-1' }],
  [TPM_ALG.SHA256, { name: 'sha256', size: 32, fn: sha256, webcrypto: 'SHA-256' }],
  [TPM_ALG.SHA384, { name: 'sha384', size: 48, fn: sha384, webcrypto: 'SHA-384' }],
  [TPM_ALG.SHA512, { name: 'sha512', size: 64, fn: sha512, webcrypto: 'SHA-512' }],
  [TPM_ALG.SM3_256, { name: 'sm3_256', size: 32, fn: sm3 }],
  [TPM_ALG.SHA3_256, { name: 'sha3_256', size: 32, fn: sha3_256 }],
  [TPM_ALG.SHA3_384, { name: 'sha3_384', size: 48, fn: sha3_384 }],
  [TPM_ALG.SHA3_512, { name: 'sha3_512', size: 64, fn: sha3_512 }],
]);

/** The same digest from a faster implementation where the runtime has one (Node: OpenSSL); undefined = not offered. */
export type NativeHash = (name: HashName, data: Uint8Array) => Uint8Array | undefined;
// undefined: the runtime default below; null: JavaScript only; a function: that (src/node/native-hash.ts).
let native: NativeHash | null | undefined;

// Inputs this large (statements, outputs events) go to the runtime's node:crypto where it offers one (for the SHA-1/2
// hashes, whose names OpenSSL shares); smaller ones stay in JavaScript, where a call costs less than a native object.
const BULK = 4096;

/** The runtime default: node:crypto (process.getBuiltinModule, no import) for bulk inputs, else undefined. */
function runtimeHash(h: HashInfo, data: Uint8Array): Uint8Array | undefined {
  const c = h.webcrypto && data.length >= BULK ? runtimeCrypto() : null;
  if (!c) return undefined;
  const n = c.createHash(h.name);
  n.update(data);
  return new Uint8Array(n.digest());
}

/**
 * Routes hash() through `fn` where it offers the algorithm (src/node/native-hash.ts); null keeps every hash in
 * JavaScript; undefined restores the default (the runtime's node:crypto for inputs of 4 KiB or more, if offered).
 */
export function setNativeHash(fn: NativeHash | null | undefined): void {
  native = fn;
}

/** The hash for a TPM_ALG_ID, or undefined when the id is not a hash aicert knows. */
export function hashInfo(alg: number): HashInfo | undefined {
  return HASHES.get(alg);
}

/** Digest size in bytes for a TPM hash alg id, or undefined. */
export function digestSize(alg: number): number | undefined {
  return HASHES.get(alg)?.size;
}

/** Name of a hash alg id (`sha256`), or `alg_0x....` when unknown. */
export function hashName(alg: number): string {
  return HASHES.get(alg)?.name ?? `alg_0x${alg.toString(16).padStart(4, '0')}`;
}

/** TPM alg id for a hash name (`sha256`, `SHA-256`, `sm3`...), or undefined. */
export function hashAlgByName(name: string): number | undefined {
  const n = name.toLowerCase().replace(/-/g, '').replace(/_/g, '');
  for (const [id, h] of HASHES) if (h.name.replace(/_/g, '') === n || (n === 'sm3' && id === TPM_ALG.SM3_256)) return id;
  return undefined;
}

/** Hashes bytes with a TPM hash alg id; throws TypeError for an unknown id (callers check first). */
export function hash(alg: number, data: Uint8Array): Uint8Array {
  const h = HASHES.get(alg);
  if (!h) throw new TypeError(`unsupported hash algorithm 0x${alg.toString(16)}`);
  const fast = native === undefined ? runtimeHash(h, data) : native?.(h.name, data);
  return fast ?? h.fn(data);
}

/** PCR extend: H(old ‖ digest). */
export function extend(alg: number, pcr: Uint8Array, digest: Uint8Array): Uint8Array {
  const buf = new Uint8Array(pcr.length + digest.length);
  buf.set(pcr);
  buf.set(digest, pcr.length);
  return hash(alg, buf);
}
