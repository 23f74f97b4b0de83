/**
 * makeCredential: the verifier half of TPM 2.0 credential activation, as TPM2_MakeCredential computes it
 * (TPM 2.0 Library Part 3 §12.6; Part 1 §24 "Credential Protection";
 * https://trustedcomputinggroup.org/resource/tpm-library-specification/). A secret is bound to an AK Name and
 * sealed to an EK; only a TPM holding both keys returns it from TPM2_ActivateCredential.
 * Spec: spec/credential-activation.md
 */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { MalformedInputError, VerificationError } from '../errors.js';
import { concat, toBase64Url as b64url } from '../util/bytes.js';
import { digestSize, hashInfo, hashName, TPM_ALG } from '../util/hash.js';
import { ECC_CURVES } from './constants.js';
import { aesCfbEncrypt, credentialHashSupported, hmacTpm, kdfa, kdfe, kdfLabel } from './credential-crypto.js';
import { leftPad, materialFromTpmPublic, rsaExponentProblem } from './keys.js';
import { parsePublicBytes, type TpmPublic } from './public.js';
import { Reader } from './reader.js';
import { subtle } from './sigverify.js';

export interface MakeCredentialInput {
  /** The EK: TPMT_PUBLIC or TPM2B_PUBLIC bytes, or a parsed public area. */
  ekPublic: Uint8Array | TpmPublic;
  /** The AK Name (nameAlg ‖ H(TPMT_PUBLIC)), or the AK public area (bytes or parsed) to compute it from. */
  akName: Uint8Array | TpmPublic;
  /** The credential: 1 to digest-size-of-EK-nameAlg bytes. */
  secret: Uint8Array;
  /**
   * Random byte source (default crypto.getRandomValues): the RSA seed, or the ECC ephemeral key's seed.
   * Pass a fixed source only for tests; a repeated seed reveals the credential to anyone who saw it before.
   */
  random?: (length: number) => Uint8Array;
}

export interface MadeCredential {
  /** TPM2B_ID_OBJECT: u16 size ‖ TPM2B_DIGEST integrityHMAC ‖ encIdentity. */
  credentialBlob: Uint8Array;
  /** TPM2B_ENCRYPTED_SECRET: the RSA-OAEP-encrypted seed, or the ephemeral TPMS_ECC_POINT. */
  encryptedSecret: Uint8Array;
}

const CURVES = { 0x0003: p256, 0x0004: p384, 0x0005: p521 } as Record<number, typeof p256 | undefined>;

const tpm2b = (b: Uint8Array): Uint8Array => concat(new Uint8Array([b.length >> 8, b.length & 0xff]), b);
const isParsed = (v: unknown): v is TpmPublic => typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && 'params' in v && 'raw' in v;

function toPublic(v: unknown, what: string): TpmPublic {
  if (isParsed(v)) return v;
  if (!(v instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array or a parsed TPM public area`);
  return parsePublicBytes(v);
}

/** The AK Name: bytes that are nameAlg ‖ digest of that size are a Name; other bytes are a public area. */
function resolveAkName(v: unknown): Uint8Array {
  if (v instanceof Uint8Array && v.length >= 2) {
    const size = digestSize((v[0]! << 8) | v[1]!);
    if (size !== undefined && v.length === 2 + size) return v.slice();
  }
  const p = toPublic(v, 'akName');
  if (p.nameAlg === TPM_ALG.NULL) throw new MalformedInputError('AK public area has nameAlg NULL, so it has no Name', { path: 'akName.nameAlg' });
  // Only a restricted, fixedTPM signing key is worth binding to the EK (go-attestation checks the same).
  const a = p.attributes;
  const missing = [!a.restricted && 'restricted', !a.sign && 'sign', !a.fixedTPM && 'fixedTPM', a.decrypt && '!decrypt'].filter(Boolean);
  if (missing.length) throw new VerificationError('AK_NOT_RESTRICTED_SIGNING', `AK is not a restricted signing key (missing: ${missing.join(', ')})`, { attributes: a.raw });
  return p.name;
}

/** TPMT_SYM_DEF_OBJECT of an RSA/ECC public area (public.ts keeps only its algorithm). */
function symDef(p: TpmPublic): { alg: number; keyBits: number; mode: number } {
  const r = new Reader(p.raw, 'ekPublic');
  r.skip(8, 'type, nameAlg, objectAttributes');
  r.tpm2b('authPolicy');
  const alg = r.u16('symmetric.algorithm');
  if (alg === TPM_ALG.NULL) return { alg, keyBits: 0, mode: TPM_ALG.NULL };
  return { alg, keyBits: r.u16('symmetric.keyBits'), mode: r.u16('symmetric.mode') };
}

/** Checks the EK can protect credentials (Part 1 §24.1: a restricted decryption key with a symmetric definition). */
function checkEk(ek: TpmPublic): { keyBits: number; digestBytes: number } {
  const a = ek.attributes;
  const notStorage = (why: string): never => {
    throw new VerificationError('EK_NOT_STORAGE_KEY', `EK cannot protect a credential: ${why}`, { attributes: a.raw, type: ek.type });
  };
  if (ek.params.type !== 'rsa' && ek.params.type !== 'ecc') notStorage(`type 0x${ek.type.toString(16)} is not RSA or ECC`);
  if (!a.restricted || !a.decrypt || a.sign) notStorage('it must be restricted and decrypt and not sign');
  if (ek.nameAlg === TPM_ALG.NULL) notStorage('nameAlg is NULL');
  if (!credentialHashSupported(ek.nameAlg)) {
    throw new VerificationError('KEY_UNSUPPORTED', `EK nameAlg ${hashName(ek.nameAlg)} is not supported`, { nameAlg: ek.nameAlg });
  }
  const sym = symDef(ek);
  if (sym.alg === TPM_ALG.NULL) notStorage('it has no symmetric algorithm');
  if (sym.mode !== TPM_ALG.CFB) notStorage(`symmetric mode 0x${sym.mode.toString(16)} is not CFB`);
  if (sym.alg !== TPM_ALG.AES || ![128, 192, 256].includes(sym.keyBits)) {
    throw new VerificationError('KEY_UNSUPPORTED', `EK symmetric algorithm 0x${sym.alg.toString(16)}/${sym.keyBits} is not AES-128/192/256`, { symmetric: sym });
  }
  return { keyBits: sym.keyBits, digestBytes: digestSize(ek.nameAlg)! };
}

/** Draws n bytes from the caller's source (checked) or from WebCrypto. */
function draw(random: MakeCredentialInput['random'], n: number): Uint8Array {
  if (random === undefined) return globalThis.crypto.getRandomValues(new Uint8Array(n));
  const b = random(n);
  if (!(b instanceof Uint8Array) || b.length !== n) throw new TypeError(`random(${n}) must return ${n} bytes`);
  return b;
}

// Part 1 Annex B.10 (RSA secret sharing): seed encrypted with RSAES-OAEP, hash = nameAlg, label "IDENTITY\0".
async function rsaSeed(ek: TpmPublic, seed: Uint8Array): Promise<Uint8Array> {
  const m = materialFromTpmPublic(ek);
  if (m.kty !== 'RSA') throw new Error('unreachable: RSA EK without RSA material');
  // With e = 1 the OAEP "ciphertext" is the encoded seed itself, readable by anyone (spec/credential-activation.md).
  const badExponent = rsaExponentProblem(m);
  if (badExponent) throw new VerificationError('KEY_EXPONENT_INVALID', `EK ${badExponent}: the seed would be readable without the EK's private key`);
  const hash = hashInfo(ek.nameAlg)!.webcrypto!;
  const label = kdfLabel('IDENTITY');
  try {
    const key = await subtle().importKey('jwk', { kty: 'RSA', n: b64url(m.n), e: b64url(m.e), ext: true }, { name: 'RSA-OAEP', hash }, false, ['encrypt']);
    return new Uint8Array(await subtle().encrypt({ name: 'RSA-OAEP', label }, key, seed.slice()));
  } catch (err) {
    // Import accepts some impossible moduli (e.g. even ones) that only encryption rejects.
    throw new MalformedInputError('EK RSA public key was rejected by WebCrypto', { path: 'ekPublic.unique' }, { cause: err });
  }
}

// Part 1 Annex C.6 (ECC secret sharing): one-pass ECDH with an ephemeral key, seed = KDFe(nameAlg, Z.x, "IDENTITY",
// ephemeral.x, ek.x, digest bits); the encrypted secret is the ephemeral TPMS_ECC_POINT.
function eccSeed(ek: TpmPublic, digestBytes: number, random: MakeCredentialInput['random']): { seed: Uint8Array; point: Uint8Array } {
  if (ek.params.type !== 'ecc') throw new Error('unreachable: ECC EK without ECC parameters');
  const curve = CURVES[ek.params.curveId];
  if (!curve) throw new VerificationError('KEY_UNSUPPORTED', `EK curve ${ek.params.curve} is not supported (NIST P-256/384/521 are)`, { curveId: ek.params.curveId });
  const size = ECC_CURVES[ek.params.curveId]!.size;
  const x = leftPad(ek.params.x, size);
  const y = leftPad(ek.params.y, size);
  if (!x || !y) throw new MalformedInputError('EK point coordinates are longer than the curve size', { path: 'ekPublic.unique' });
  const ephemeral = curve.utils.randomSecretKey(draw(random, curve.lengths.seed!));
  let shared: Uint8Array;
  try {
    shared = curve.getSharedSecret(ephemeral, concat(new Uint8Array([4]), x, y), true);
  } catch (err) {
    throw new MalformedInputError('EK point is not on its curve', { path: 'ekPublic.unique' }, { cause: err });
  }
  const pub = curve.getPublicKey(ephemeral, false);
  const ephX = pub.subarray(1, 1 + size);
  const ephY = pub.subarray(1 + size);
  // partyVInfo is the EK's x exactly as its public area holds it (the TPM reads it from there).
  const seed = kdfe(ek.nameAlg, shared.subarray(1), 'IDENTITY', ephX, ek.params.x, digestBytes * 8);
  return { seed, point: concat(tpm2b(ephX), tpm2b(ephY)) };
}

/** TPM2_MakeCredential in software: a credential only the TPM holding both the EK and the named AK can open. */
export async function makeCredential(input: MakeCredentialInput): Promise<MadeCredential> {
  if (!input || typeof input !== 'object') throw new TypeError('makeCredential expects an input object');
  const { secret, random } = input;
  if (!(secret instanceof Uint8Array)) throw new TypeError('secret must be a Uint8Array');
  if (random !== undefined && typeof random !== 'function') throw new TypeError('random must be a function');
  const ek = toPublic(input.ekPublic, 'ekPublic');
  const akName = resolveAkName(input.akName);
  const { keyBits, digestBytes } = checkEk(ek);
  if (secret.length === 0 || secret.length > digestBytes) {
    throw new TypeError(`secret must be 1 to ${digestBytes} bytes (the EK nameAlg digest size), got ${secret.length}`);
  }

  let seed: Uint8Array;
  let encrypted: Uint8Array;
  if (ek.params.type === 'rsa') {
    seed = draw(random, digestBytes);
    encrypted = await rsaSeed(ek, seed);
  } else {
    ({ seed, point: encrypted } = eccSeed(ek, digestBytes, random));
  }

  // Part 1 §24.4: symKey = KDFa(nameAlg, seed, "STORAGE", Name, ∅, keyBits); encIdentity = CFB(symKey, 0, TPM2B secret).
  const symKey = kdfa(ek.nameAlg, seed, 'STORAGE', akName, new Uint8Array(0), keyBits);
  const encIdentity = await aesCfbEncrypt(symKey, tpm2b(secret));
  // Part 1 §24.5: HMACkey = KDFa(nameAlg, seed, "INTEGRITY", ∅, ∅, digest bits); outerHMAC over encIdentity ‖ Name.
  const hmacKey = kdfa(ek.nameAlg, seed, 'INTEGRITY', new Uint8Array(0), new Uint8Array(0), digestBytes * 8);
  const outerHmac = hmacTpm(ek.nameAlg, hmacKey, concat(encIdentity, akName));
  return { credentialBlob: tpm2b(concat(tpm2b(outerHmac), encIdentity)), encryptedSecret: tpm2b(encrypted) };
}
