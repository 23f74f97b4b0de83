/**
 * Attestation-key input in every form `aicert quote --ak` accepts: TPMT_PUBLIC, TPM2B_PUBLIC, DER or PEM
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), or an X.509 certificate. Normalised to raw key material.
 */
import { MalformedInputError } from '../errors.js';
import { bytesEqual, tryUtf8Decode } from '../util/bytes.js';
import { readJson } from '../util/json.js';
import { ECC_CURVES } from './constants.js';
import { materialFromJwk } from './jwk.js';
import { isTpm2bPublic, parsePublicBytes, type TpmPublic } from './public.js';
import { readPem } from './pem.js';
import { parseCert } from './x509-cert.js';
import { checkDer, decodeOid, readTlv, readTlvs } from './x509-der.js';

/** Raw public key material; RSA integers and EC coordinates without leading zero padding beyond field size. */
export type KeyMaterial =
  | { kty: 'RSA'; n: Uint8Array; e: Uint8Array }
  | { kty: 'EC'; crv: 'P-256' | 'P-384' | 'P-521'; x: Uint8Array; y: Uint8Array };

export interface AkKey {
  material: KeyMaterial;
  source: 'tpmt-public' | 'tpm2b-public' | 'spki' | 'certificate' | 'jwk';
  /** Present when the key came as a TPM public area: carries attributes and the bound scheme. */
  tpmPublic?: TpmPublic;
  /** DER certificate when the key came from one. */
  certificate?: Uint8Array;
}

const OID_RSA = '1.2.840.113549.1.1.1';
const OID_EC = '1.2.840.10045.2.1';
const CURVE_OIDS: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};
const CURVE_SIZE = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;

/** Strips leading zero bytes (keeps at least one byte). */
function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** Left-pads to a fixed size; undefined when the value does not fit. */
export function leftPad(b: Uint8Array, size: number): Uint8Array | undefined {
  const s = stripZeros(b);
  if (s.length > size) return undefined;
  const out = new Uint8Array(size);
  out.set(s, size - s.length);
  return out;
}

/** Key material of a TPM public area (RSA or ECC on a WebCrypto curve). */
export function materialFromTpmPublic(p: TpmPublic): KeyMaterial {
  if (p.params.type === 'rsa') {
    const e = p.params.exponent;
    const eb = stripZeros(new Uint8Array([e >>> 24, (e >>> 16) & 0xff, (e >>> 8) & 0xff, e & 0xff]));
    return { kty: 'RSA', n: stripZeros(p.params.modulus), e: eb };
  }
  if (p.params.type === 'ecc') {
    const crv = ECC_CURVES[p.params.curveId]?.jwk;
    if (!crv) throw new MalformedInputError(`ECC curve ${p.params.curve} is not supported for signatures`, { path: 'ak.curve' });
    const x = leftPad(p.params.x, CURVE_SIZE[crv]);
    const y = leftPad(p.params.y, CURVE_SIZE[crv]);
    if (!x || !y) throw new MalformedInputError('ECC point coordinates are longer than the curve size', { path: 'ak.unique' });
    return { kty: 'EC', crv, x, y };
  }
  throw new MalformedInputError(`public area of type ${p.params.type} is not a signing key type`, { path: 'ak.type' });
}

/** A positive DER INTEGER's magnitude. */
function derUint(body: Uint8Array, path: string): Uint8Array {
  if (body.length === 0 || (body[0]! & 0x80) !== 0) throw new MalformedInputError('expected a positive INTEGER', { path });
  return stripZeros(body);
}

// RFC 5280 §4.1.2.7 SubjectPublicKeyInfo; RFC 8017 §A.1.1 RSAPublicKey; RFC 5480 §2 EC keys
/** Key material from DER SubjectPublicKeyInfo (strict DER, no trailing bytes). */
export function materialFromSpki(der: Uint8Array): KeyMaterial {
  const path = 'ak.subjectPublicKeyInfo';
  checkDer(der, path);
  const [alg, bits, ...rest] = readTlvs(readTlv(der, path, 0x30).body, path);
  if (!alg || alg.tag !== 0x30 || !bits || bits.tag !== 0x03 || rest.length) throw new MalformedInputError('not a SubjectPublicKeyInfo', { path });
  const [oidTlv, params] = readTlvs(alg.body, `${path}.algorithm`);
  if (!oidTlv || oidTlv.tag !== 0x06) throw new MalformedInputError('algorithm OID missing', { path: `${path}.algorithm` });
  const oid = decodeOid(oidTlv.body);
  if (bits.body[0] !== 0) throw new MalformedInputError('subjectPublicKey has unused bits', { path });
  const key = bits.body.subarray(1);
  if (oid === OID_RSA) {
    const [n, e, ...more] = readTlvs(readTlv(key, `${path}.rsa`, 0x30).body, `${path}.rsa`);
    if (!n || n.tag !== 0x02 || !e || e.tag !== 0x02 || more.length) throw new MalformedInputError('bad RSAPublicKey', { path: `${path}.rsa` });
    return { kty: 'RSA', n: derUint(n.body, `${path}.rsa.modulus`).slice(), e: derUint(e.body, `${path}.rsa.publicExponent`).slice() };
  }
  if (oid === OID_EC) {
    const crv = params?.tag === 0x06 ? CURVE_OIDS[decodeOid(params.body)] : undefined;
    if (!crv) throw new MalformedInputError('unsupported EC curve', { path: `${path}.algorithm.parameters` });
    const size = CURVE_SIZE[crv];
    if (key.length !== 1 + 2 * size || key[0] !== 4) throw new MalformedInputError('EC point must be uncompressed', { path });
    return { kty: 'EC', crv, x: key.slice(1, 1 + size), y: key.slice(1 + size) };
  }
  throw new MalformedInputError(`unsupported key algorithm ${oid}`, { path: `${path}.algorithm` });
}

/** Key material from a DER X.509 certificate's SubjectPublicKeyInfo. */
export function certificatePublicKey(der: Uint8Array): KeyMaterial {
  return materialFromSpki(parseCert(der, 'ak').spki);
}

/** Loads an AK public key from any supported encoding, detected from its bytes. */
export function loadAkPublic(input: Uint8Array | string | TpmPublic): AkKey {
  if (typeof input === 'object' && !(input instanceof Uint8Array) && 'params' in input) {
    return { material: materialFromTpmPublic(input), source: 'tpmt-public', tpmPublic: input };
  }
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) throw new TypeError('akPublic must be bytes, a PEM string or a parsed TPM public area');
  const text = typeof input === 'string' ? input : input.length < 64 * 1024 ? tryUtf8Decode(input) : undefined;
  if (text?.includes('-----BEGIN')) {
    // Exactly one block, read by the one linear PEM reader.
    const blocks = readPem(text, 'ak');
    if (blocks.length !== 1) throw new MalformedInputError(`expected one PEM block, found ${blocks.length}`, { path: 'ak' });
    const pem = blocks[0]!;
    if (pem.label === 'CERTIFICATE') return { material: certificatePublicKey(pem.der), source: 'certificate', certificate: pem.der };
    if (pem.label === 'PUBLIC KEY') return { material: materialFromSpki(pem.der), source: 'spki' };
    throw new MalformedInputError(`unsupported PEM block ${pem.label}`, { path: 'ak' });
  }
  // A JWK (RSA or EC public key, the form of Azure's HCLAkPub): spec/confidential-vms.md §JWK.
  // The reader gets the bytes themselves when given bytes (the decoded text has lost a leading byte order mark).
  if (text !== undefined && /^\s*\{/.test(text)) return { material: materialFromJwk(readJson(typeof input === 'string' ? text : input, 'AK JWK'), 'ak'), source: 'jwk' };
  if (typeof input === 'string') throw new MalformedInputError('string akPublic must be PEM or a JWK', { path: 'ak' });
  if (input.length === 0) throw new MalformedInputError('empty AK public key', { path: 'ak', offset: 0 });
  // DER: an ASN.1 SEQUENCE cannot be a TPM2B_PUBLIC (size ≥ 0x3000) or a TPMT_PUBLIC (no type 0x30xx).
  if (input[0] === 0x30) {
    // SubjectPublicKeyInfo starts with AlgorithmIdentifier (a SEQUENCE whose first element is an OID);
    // a certificate starts with TBSCertificate (a SEQUENCE that starts with [0] version or an INTEGER).
    const first = readTlvs(readTlv(input, 'ak', 0x30).body, 'ak')[0];
    const inner = first?.tag === 0x30 ? readTlvs(first.body, 'ak')[0] : undefined;
    if (inner?.tag === 0x06) return { material: materialFromSpki(input), source: 'spki' };
    return { material: certificatePublicKey(input), source: 'certificate', certificate: input };
  }
  // TPM2B_PUBLIC when its size prefix covers exactly the rest, else TPMT_PUBLIC.
  const p = parsePublicBytes(input);
  return { material: materialFromTpmPublic(p), source: isTpm2bPublic(input) ? 'tpm2b-public' : 'tpmt-public', tpmPublic: p };
}

/** True when two keys are the same public key. */
export function sameKey(a: KeyMaterial, b: KeyMaterial): boolean {
  if (a.kty === 'RSA' && b.kty === 'RSA') return bytesEqual(stripZeros(a.n), stripZeros(b.n)) && bytesEqual(stripZeros(a.e), stripZeros(b.e));
  if (a.kty === 'EC' && b.kty === 'EC') return a.crv === b.crv && bytesEqual(a.x, b.x) && bytesEqual(a.y, b.y);
  return false;
}

// RFC 8017 §3.1 (RSA public key: 3 <= e < n, e odd) https://www.rfc-editor.org/rfc/rfc8017#section-3.1
/** Why an RSA key's public exponent is unusable (even, below 3, or not below the modulus), or undefined when it is fine. */
export function rsaExponentProblem(k: KeyMaterial): string | undefined {
  if (k.kty !== 'RSA') return undefined;
  const e = stripZeros(k.e);
  const n = stripZeros(k.n);
  // e = 1 makes every padded message its own signature; an even e is not invertible mod (p-1)(q-1).
  if (e.length === 0 || (e.length === 1 && e[0]! < 3)) return `RSA public exponent ${e[0] ?? 0} is below 3`;
  if ((e[e.length - 1]! & 1) === 0) return 'RSA public exponent is even';
  if (e.length >= n.length) return 'RSA public exponent is not below the modulus';
  return undefined;
}

/** Bit length of an RSA modulus (0 for an EC key). */
export function rsaBits(k: KeyMaterial): number {
  if (k.kty !== 'RSA') return 0;
  const n = stripZeros(k.n);
  return n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
}

/** Short description, e.g. `RSA-2048` or `ECDSA P-256`. */
export function describeKey(k: KeyMaterial): string {
  return k.kty === 'RSA' ? `RSA-${stripZeros(k.n).length * 8}` : `EC ${k.crv}`;
}

