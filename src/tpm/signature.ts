/**
 * TPMT_SIGNATURE (TPM 2.0 Library Part 2 §11.3.4,
 * https://trustedcomputinggroup.org/resource/tpm-library-specification/).
 */
import { Reader } from './reader.js';
import { MAX } from './constants.js';
import { digestSize, hashName, TPM_ALG } from '../util/hash.js';

export type Signature =
  | { sigAlg: 0x0014 | 0x0016; scheme: 'rsassa' | 'rsapss'; hashAlg: number; sig: Uint8Array }
  | { sigAlg: 0x0018 | 0x001a | 0x001b | 0x001c; scheme: 'ecdsa' | 'ecdaa' | 'sm2' | 'ecschnorr'; hashAlg: number; r: Uint8Array; s: Uint8Array }
  | { sigAlg: 0x0005; scheme: 'hmac'; hashAlg: number; digest: Uint8Array }
  | { sigAlg: 0x0010; scheme: 'null' };

const ECC_SCHEMES: Record<number, 'ecdsa' | 'ecdaa' | 'sm2' | 'ecschnorr'> = {
  [TPM_ALG.ECDSA]: 'ecdsa',
  [TPM_ALG.ECDAA]: 'ecdaa',
  [TPM_ALG.SM2]: 'sm2',
  [TPM_ALG.ECSCHNORR]: 'ecschnorr',
};

/** Reads a hash alg id that must be a known hash. */
function readHashAlg(r: Reader, field: string): number {
  const at = r.offset;
  const alg = r.u16(field);
  if (digestSize(alg) === undefined) r.fail(`${field}: unknown hash algorithm ${hashName(alg)}`, at);
  return alg;
}

/** Reads a TPMT_SIGNATURE from a reader (used inside larger structures too). */
export function readSignature(r: Reader): Signature {
  const at = r.offset;
  const sigAlg = r.u16('sigAlg');
  if (sigAlg === TPM_ALG.RSASSA || sigAlg === TPM_ALG.RSAPSS) {
    const hashAlg = readHashAlg(r, 'signature.hash');
    const sig = r.tpm2b('signature.sig', MAX.RSA_KEY_BYTES);
    if (sig.length === 0) r.fail('empty RSA signature');
    return { sigAlg, scheme: sigAlg === TPM_ALG.RSASSA ? 'rsassa' : 'rsapss', hashAlg, sig };
  }
  const ecc = ECC_SCHEMES[sigAlg];
  if (ecc) {
    const hashAlg = readHashAlg(r, 'signature.hash');
    const sr = r.tpm2b('signature.signatureR', MAX.ECC_KEY_BYTES);
    const ss = r.tpm2b('signature.signatureS', MAX.ECC_KEY_BYTES);
    return { sigAlg: sigAlg as 0x0018, scheme: ecc, hashAlg, r: sr, s: ss };
  }
  if (sigAlg === TPM_ALG.HMAC) {
    const hashAlg = readHashAlg(r, 'signature.hashAlg');
    return { sigAlg, scheme: 'hmac', hashAlg, digest: r.bytesN(digestSize(hashAlg)!, 'signature.digest') };
  }
  if (sigAlg === TPM_ALG.NULL) return { sigAlg, scheme: 'null' };
  return r.fail(`unknown signature algorithm 0x${sigAlg.toString(16)}`, at);
}

/** Parses a TPMT_SIGNATURE; every byte must be consumed. */
export function parseSignature(bytes: Uint8Array): Signature {
  const r = new Reader(bytes, 'TPMT_SIGNATURE');
  const s = readSignature(r);
  r.end();
  return s;
}
