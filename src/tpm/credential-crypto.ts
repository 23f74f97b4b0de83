/**
 * The primitives of TPM credential protection (spec/credential-activation.md): KDFa and KDFe
 * (TPM 2.0 Library Part 1 §11.4.10.2 and §11.4.10.3, https://trustedcomputinggroup.org/resource/tpm-library-specification/),
 * HMAC, and AES in CFB mode (Part 1 §24.4), which WebCrypto lacks and is built here from AES-CTR.
 * No Node APIs: HMAC and hashes come from @noble/hashes, AES from globalThis.crypto.subtle.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { concat, utf8 } from '../util/bytes.js';
import { TPM_ALG } from '../util/hash.js';
import { subtle } from './sigverify.js';

/** Hashes usable as an EK nameAlg here: the ones WebCrypto RSA-OAEP supports too. */
const HASHES = new Map<number, CHash>([
  [TPM_ALG.SHA1, sha1],
  [TPM_ALG.SHA256, sha256],
  [TPM_ALG.SHA384, sha384],
  [TPM_ALG.SHA512, sha512],
]);

/** True when `alg` is a hash this module can use for KDFa, KDFe and HMAC. */
export function credentialHashSupported(alg: number): boolean {
  return HASHES.has(alg);
}

function hashFn(alg: number): CHash {
  const h = HASHES.get(alg);
  if (!h) throw new TypeError(`unsupported hash algorithm 0x${alg.toString(16)}`);
  return h;
}

function u32(n: number): Uint8Array {
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** A KDF (or OAEP) label as the TPM uses it: its bytes and one terminating NUL (Part 1 §11.4.10.1). */
export function kdfLabel(s: string): Uint8Array<ArrayBuffer> {
  return concat(utf8(s), new Uint8Array(1));
}

/** HMAC with a TPM hash alg id. */
export function hmacTpm(alg: number, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(hashFn(alg), key, data);
}

/**
 * KDFa (Part 1 §11.4.10.2), SP 800-108 counter mode with HMAC:
 * HMAC(key, [i]₃₂ ‖ label ‖ 00 ‖ contextU ‖ contextV ‖ [bits]₃₂) for i = 1, 2, …, truncated to `bits`.
 */
export function kdfa(alg: number, key: Uint8Array, lbl: string, contextU: Uint8Array, contextV: Uint8Array, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits <= 0 || bits % 8 !== 0) throw new TypeError(`KDFa: bits must be a positive multiple of 8, got ${bits}`);
  const fixed = concat(kdfLabel(lbl), contextU, contextV, u32(bits));
  const out = new Uint8Array(bits / 8);
  for (let i = 1, off = 0; off < out.length; i++) {
    const block = hmacTpm(alg, key, concat(u32(i), fixed));
    out.set(block.subarray(0, out.length - off), off);
    off += block.length;
  }
  return out;
}

/**
 * KDFe (Part 1 §11.4.10.3), SP 800-56A concatenation KDF:
 * H([i]₃₂ ‖ Z ‖ label ‖ 00 ‖ partyUInfo ‖ partyVInfo) for i = 1, 2, …, truncated to `bits`.
 */
export function kdfe(alg: number, z: Uint8Array, lbl: string, partyU: Uint8Array, partyV: Uint8Array, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits <= 0 || bits % 8 !== 0) throw new TypeError(`KDFe: bits must be a positive multiple of 8, got ${bits}`);
  const h = hashFn(alg);
  const fixed = concat(z, kdfLabel(lbl), partyU, partyV);
  const out = new Uint8Array(bits / 8);
  for (let i = 1, off = 0; off < out.length; i++) {
    const block = h(concat(u32(i), fixed));
    out.set(block.subarray(0, out.length - off), off);
    off += block.length;
  }
  return out;
}

/**
 * AES-CFB128 encryption with an all-zero IV (Part 1 §24.4). CFB computes Cᵢ = Pᵢ ⊕ AES(K, Cᵢ₋₁) with C₀ = IV;
 * AES-CTR over at most one block with counter block Cᵢ₋₁ computes exactly that, including a short final block.
 */
export async function aesCfbEncrypt(key: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  if (![16, 24, 32].includes(key.length)) throw new TypeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  const k = await subtle().importKey('raw', key.slice(), { name: 'AES-CTR' }, false, ['encrypt']);
  const out = new Uint8Array(plaintext.length);
  let prev = new Uint8Array(16);
  for (let off = 0; off < plaintext.length; off += 16) {
    const block = plaintext.slice(off, off + 16);
    const c = new Uint8Array(await subtle().encrypt({ name: 'AES-CTR', counter: prev, length: 128 }, k, block));
    out.set(c, off);
    prev = c;
  }
  return out;
}
