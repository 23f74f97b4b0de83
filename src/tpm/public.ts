/**
 * TPMT_PUBLIC and TPM2B_PUBLIC (TPM 2.0 Library Part 2 §12.2,
 * https://trustedcomputinggroup.org/resource/tpm-library-specification/), and the object Name (Part 1 §16).
 */
import { Reader } from './reader.js';
import { ECC_CURVES, MAX, TPMA_OBJECT } from './constants.js';
import { concat } from '../util/bytes.js';
import { digestSize, hash, hashName, TPM_ALG } from '../util/hash.js';

export interface ObjectAttributes {
  raw: number;
  fixedTPM: boolean;
  stClear: boolean;
  fixedParent: boolean;
  sensitiveDataOrigin: boolean;
  userWithAuth: boolean;
  adminWithPolicy: boolean;
  noDA: boolean;
  encryptedDuplication: boolean;
  restricted: boolean;
  decrypt: boolean;
  sign: boolean;
  x509sign: boolean;
}

/** A signing/decryption scheme with its hash (NULL scheme: alg 0x0010, no hash). */
export interface Scheme {
  alg: number;
  hashAlg?: number;
  count?: number;
}

export type PublicParams =
  | { type: 'rsa'; symmetric: number; scheme: Scheme; keyBits: number; exponent: number; modulus: Uint8Array }
  | { type: 'ecc'; symmetric: number; scheme: Scheme; curveId: number; curve: string; kdf: Scheme; x: Uint8Array; y: Uint8Array }
  | { type: 'keyedhash'; scheme: Scheme; unique: Uint8Array }
  | { type: 'symcipher'; symmetric: number; unique: Uint8Array };

export interface TpmPublic {
  type: number;
  nameAlg: number;
  attributes: ObjectAttributes;
  authPolicy: Uint8Array;
  params: PublicParams;
  /** The exact TPMT_PUBLIC bytes (without the TPM2B size). */
  raw: Uint8Array;
  /** Name = nameAlg ‖ H_nameAlg(TPMT_PUBLIC). */
  name: Uint8Array;
}

/** Decodes TPMA_OBJECT bits; reserved bits set are an error. */
function decodeAttributes(r: Reader, raw: number, at: number): ObjectAttributes {
  const known = Object.values(TPMA_OBJECT).reduce((a, b) => a | b, 0);
  if ((raw & ~known) >>> 0 !== 0) r.fail(`objectAttributes 0x${raw.toString(16)} sets reserved bits`, at);
  const b = (bit: number): boolean => (raw & bit) !== 0;
  return {
    raw,
    fixedTPM: b(TPMA_OBJECT.fixedTPM),
    stClear: b(TPMA_OBJECT.stClear),
    fixedParent: b(TPMA_OBJECT.fixedParent),
    sensitiveDataOrigin: b(TPMA_OBJECT.sensitiveDataOrigin),
    userWithAuth: b(TPMA_OBJECT.userWithAuth),
    adminWithPolicy: b(TPMA_OBJECT.adminWithPolicy),
    noDA: b(TPMA_OBJECT.noDA),
    encryptedDuplication: b(TPMA_OBJECT.encryptedDuplication),
    restricted: b(TPMA_OBJECT.restricted),
    decrypt: b(TPMA_OBJECT.decrypt),
    sign: b(TPMA_OBJECT.sign),
    x509sign: b(TPMA_OBJECT.x509sign),
  };
}

/** TPMT_SYM_DEF_OBJECT: algorithm, then keyBits + mode unless NULL. */
function readSymDef(r: Reader): number {
  const alg = r.u16('symmetric.algorithm');
  if (alg !== TPM_ALG.NULL) {
    r.u16('symmetric.keyBits');
    r.u16('symmetric.mode');
  }
  return alg;
}

/** TPMT_*_SCHEME: scheme id, then details (hashAlg; ECDAA adds count) unless NULL or RSAES. */
function readScheme(r: Reader, field: string): Scheme {
  const alg = r.u16(`${field}.scheme`);
  if (alg === TPM_ALG.NULL || alg === TPM_ALG.RSAES) return { alg };
  const at = r.offset;
  const hashAlg = r.u16(`${field}.hashAlg`);
  if (digestSize(hashAlg) === undefined) r.fail(`${field}: unknown hash ${hashName(hashAlg)}`, at);
  if (alg === TPM_ALG.ECDAA) return { alg, hashAlg, count: r.u16(`${field}.count`) };
  if (alg === TPM_ALG.XOR) r.u16(`${field}.kdf`);
  return { alg, hashAlg };
}

/** Reads the type-specific parameters and unique field. */
function readParams(r: Reader, type: number): PublicParams {
  switch (type) {
    case TPM_ALG.RSA: {
      const symmetric = readSymDef(r);
      const scheme = readScheme(r, 'rsa.scheme');
      const keyBits = r.u16('rsa.keyBits');
      const exponent = r.u32('rsa.exponent');
      const modulus = r.tpm2b('rsa.unique', MAX.RSA_KEY_BYTES);
      if (modulus.length * 8 !== keyBits) r.fail(`RSA modulus is ${modulus.length * 8} bits but keyBits says ${keyBits}`);
      return { type: 'rsa', symmetric, scheme, keyBits, exponent: exponent === 0 ? 65537 : exponent, modulus };
    }
    case TPM_ALG.ECC: {
      const symmetric = readSymDef(r);
      const scheme = readScheme(r, 'ecc.scheme');
      const cAt = r.offset;
      const curveId = r.u16('ecc.curveID');
      const curve = ECC_CURVES[curveId];
      if (!curve) r.fail(`unknown ECC curve 0x${curveId.toString(16)}`, cAt);
      const kdf = readScheme(r, 'ecc.kdf');
      const x = r.tpm2b('ecc.unique.x', MAX.ECC_KEY_BYTES);
      const y = r.tpm2b('ecc.unique.y', MAX.ECC_KEY_BYTES);
      return { type: 'ecc', symmetric, scheme, curveId, curve: curve.name, kdf, x, y };
    }
    case TPM_ALG.KEYEDHASH: {
      const scheme = readScheme(r, 'keyedhash.scheme');
      return { type: 'keyedhash', scheme, unique: r.tpm2b('keyedhash.unique', MAX.DIGEST) };
    }
    case TPM_ALG.SYMCIPHER: {
      const symmetric = readSymDef(r);
      return { type: 'symcipher', symmetric, unique: r.tpm2b('symcipher.unique', MAX.DIGEST) };
    }
    default:
      return r.fail(`unknown public key type 0x${type.toString(16)}`, 0);
  }
}

/** Reads a TPMT_PUBLIC from a reader. */
export function readPublic(r: Reader): TpmPublic {
  const start = r.offset;
  const type = r.u16('type');
  const naAt = r.offset;
  const nameAlg = r.u16('nameAlg');
  if (nameAlg !== TPM_ALG.NULL && digestSize(nameAlg) === undefined) r.fail(`unknown nameAlg ${hashName(nameAlg)}`, naAt);
  const aAt = r.offset;
  const attributes = decodeAttributes(r, r.u32('objectAttributes'), aAt);
  const authPolicy = r.tpm2b('authPolicy', MAX.DIGEST);
  const params = readParams(r, type);
  const raw = r.bytes.subarray(start, r.offset);
  const name = nameAlg === TPM_ALG.NULL ? new Uint8Array(0) : concat(new Uint8Array([nameAlg >> 8, nameAlg & 0xff]), hash(nameAlg, raw));
  return { type, nameAlg, attributes, authPolicy, params, raw, name };
}

/** Parses a TPMT_PUBLIC; every byte must be consumed. */
export function parseTpmtPublic(bytes: Uint8Array): TpmPublic {
  const r = new Reader(bytes, 'TPMT_PUBLIC');
  const p = readPublic(r);
  r.end();
  return p;
}

/** Parses a TPM2B_PUBLIC: the u16 size must equal the TPMT_PUBLIC that follows. */
export function parseTpm2bPublic(bytes: Uint8Array): TpmPublic {
  const r = new Reader(bytes, 'TPM2B_PUBLIC');
  const size = r.u16('size');
  const inner = r.sub(size, 'TPM2B_PUBLIC.publicArea');
  r.end();
  const p = readPublic(inner);
  inner.end();
  return p;
}

/** True when the bytes look like a TPM2B_PUBLIC: the leading u16 size covers exactly the rest. */
export function isTpm2bPublic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && ((bytes[0]! << 8) | bytes[1]!) === bytes.length - 2;
}

/** Parses a public area given as TPM2B_PUBLIC (when {@link isTpm2bPublic}) or else as TPMT_PUBLIC. */
export function parsePublicBytes(bytes: Uint8Array): TpmPublic {
  return isTpm2bPublic(bytes) ? parseTpm2bPublic(bytes) : parseTpmtPublic(bytes);
}
