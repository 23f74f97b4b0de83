/**
 * Plain signatures (`tpm2_quote -f plain`, `tpm2_checkquote -F plain`; Azure vTPM evidence ships them this way):
 * a raw RSA signature, or an ECDSA signature as DER Ecdsa-Sig-Value (what tpm2-tools writes) or fixed-width r‖s.
 * The scheme and hash come from the caller, else from the AK's bound scheme, else the tpm2_checkquote defaults
 * (RSASSA / ECDSA with SHA-256). The result is a TPMT_SIGNATURE, so verifyQuote's checks apply unchanged.
 * Spec: spec/confidential-vms.md §Plain signatures.
 */
import { MalformedInputError } from '../errors.js';
import { concat } from '../util/bytes.js';
import { hashAlgByName, TPM_ALG } from '../util/hash.js';
import type { AkKey } from './keys.js';
import { readTlv, readTlvs } from './x509-der.js';

export type PlainScheme = 'rsassa' | 'rsapss' | 'ecdsa';
const ALG = { rsassa: TPM_ALG.RSASSA, rsapss: TPM_ALG.RSAPSS, ecdsa: TPM_ALG.ECDSA } as const;
const CURVE_SIZE = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;

export interface PlainSignatureOptions {
  scheme?: PlainScheme;
  /** Hash name (`sha256`) or TPM_ALG id. */
  hash?: string | number;
}

function u16(n: number): Uint8Array {
  return new Uint8Array([n >>> 8, n & 0xff]);
}

/** One DER INTEGER of an Ecdsa-Sig-Value, as unsigned magnitude. */
function derInt(body: Uint8Array): Uint8Array {
  if (body.length === 0 || (body[0]! & 0x80) !== 0) throw new MalformedInputError('ECDSA signature INTEGER is not positive', { path: 'signature' });
  let i = 0;
  while (i < body.length - 1 && body[i] === 0) i++;
  return body.subarray(i);
}

/** Splits a plain ECDSA signature: DER Ecdsa-Sig-Value, else r‖s of exactly twice the curve size. */
function ecdsaParts(sig: Uint8Array, size: number): [Uint8Array, Uint8Array] {
  if (sig[0] === 0x30 && sig.length !== 2 * size) {
    const ints = readTlvs(readTlv(sig, 'signature', 0x30).body, 'signature');
    if (ints.length !== 2 || ints.some((t) => t.tag !== 0x02)) throw new MalformedInputError('not an Ecdsa-Sig-Value', { path: 'signature' });
    return [derInt(ints[0]!.body), derInt(ints[1]!.body)];
  }
  if (sig.length !== 2 * size) throw new MalformedInputError(`plain ECDSA signature is ${sig.length} bytes; expected DER or ${2 * size} bytes r‖s`, { path: 'signature' });
  return [sig.subarray(0, size), sig.subarray(size)];
}

/** The scheme and hash a plain signature from this AK is read with. */
export function plainScheme(ak: AkKey, opts: PlainSignatureOptions = {}): { scheme: PlainScheme; hashAlg: number } {
  const bound = ak.tpmPublic && 'scheme' in ak.tpmPublic.params ? ak.tpmPublic.params.scheme : undefined;
  const boundScheme = bound && bound.alg !== TPM_ALG.NULL ? (Object.keys(ALG) as PlainScheme[]).find((k) => ALG[k] === bound.alg) : undefined;
  const scheme = opts.scheme ?? boundScheme ?? (ak.material.kty === 'RSA' ? 'rsassa' : 'ecdsa');
  let hashAlg: number | undefined = typeof opts.hash === 'number' ? opts.hash : opts.hash !== undefined ? hashAlgByName(opts.hash) : undefined;
  if (opts.hash !== undefined && hashAlg === undefined) throw new MalformedInputError(`unknown hash ${String(opts.hash)}`, { path: 'hash' });
  hashAlg ??= boundScheme && bound?.hashAlg ? bound.hashAlg : TPM_ALG.SHA256;
  return { scheme, hashAlg };
}

/** Wraps a plain signature as TPMT_SIGNATURE bytes (TPM 2.0 Part 2 §11.3.4). */
export function tpmtFromPlainSignature(sig: Uint8Array, ak: AkKey, opts: PlainSignatureOptions = {}): Uint8Array {
  if (sig.length === 0) throw new MalformedInputError('empty signature', { path: 'signature', offset: 0 });
  const { scheme, hashAlg } = plainScheme(ak, opts);
  if (scheme === 'ecdsa') {
    if (ak.material.kty !== 'EC') throw new MalformedInputError('ECDSA scheme given for an RSA AK', { path: 'signature' });
    const [r, s] = ecdsaParts(sig, CURVE_SIZE[ak.material.crv]);
    return concat(u16(ALG.ecdsa), u16(hashAlg), u16(r.length), r, u16(s.length), s);
  }
  if (ak.material.kty !== 'RSA') throw new MalformedInputError(`${scheme} scheme given for an EC AK`, { path: 'signature' });
  if (sig.length > 0xffff) throw new MalformedInputError('signature too long', { path: 'signature' });
  return concat(u16(ALG[scheme]), u16(hashAlg), u16(sig.length), sig);
}
