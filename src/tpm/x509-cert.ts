/**
 * X.509 certificate parsing for AK chain validation. Every field the validator relies on (names, validity,
 * SPKI, the extensions it enforces) is read from the raw DER by strict decoders, so a lenient library default
 * can never turn into a silent pass; x509-sig decodes the signature AlgorithmIdentifier parameters with x509-der.
 * No third-party ASN.1 library is used.
 * Parsed certificates are cached.
 */
import { MalformedInputError } from '../errors.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { hash, TPM_ALG } from '../util/hash.js';
import { checkDer, decodeOid, readTlv, readTlvs, type Tlv } from './x509-der.js';
import { decodeExtensions, type CertExtensions } from './x509-ext.js';
import { formatName } from './x509-name.js';

/** Everything the path validator needs from one certificate. Treat as read-only. */
export interface ParsedCert {
  der: Uint8Array;
  sha256: string;
  version: number;
  serialHex: string;
  tbs: Uint8Array;
  /** Outer signatureAlgorithm: its OID and the whole AlgorithmIdentifier DER (parameters are decoded on use). */
  sigAlgOid: string;
  sigAlgDer: Uint8Array;
  signature: Uint8Array;
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  issuer: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  spkiSha256: string;
  keyAlgOid: string;
  /** Named curve OID for EC keys. */
  curveOid: string | undefined;
  ext: CertExtensions;
}

const MAX_CACHE = 4096;
/** Parsed certificates bucketed by (length, FNV-1a); a hit is confirmed by comparing the whole DER. */
const cache = new Map<string, ParsedCert[]>();
let cached = 0;

/** 32-bit FNV-1a: a cheap bucket key, never trusted on its own. */
function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** Parses (or returns the cached parse of) one DER certificate. Malformed -> MalformedInputError at `path`. */
export function parseCert(der: Uint8Array, path = 'certificate'): ParsedCert {
  const key = `${der.length}:${fnv1a(der)}`;
  const bucket = cache.get(key);
  const hit = bucket?.find((p) => bytesEqual(p.der, der));
  if (hit) return hit;
  checkDer(der, path);
  const pc = parseUncached(der.slice(), path);
  if (cached >= MAX_CACHE) clearCertCache();
  cache.set(key, [...(bucket ?? []), pc]);
  cached++;
  return pc;
}

/** Drops every cached parse (tests and long-running processes that rotate trust material). */
export function clearCertCache(): void {
  cache.clear();
  cached = 0;
}

// RFC 5280 §4.1 (Certificate and TBSCertificate) https://www.rfc-editor.org/rfc/rfc5280#section-4.1
function parseUncached(der: Uint8Array<ArrayBuffer>, path: string): ParsedCert {
  // Step 1: the outer SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }.
  const outer = readTlvs(readTlv(der, path, 0x30).body, path);
  const [tbsT, sigAlgT, sigT] = outer;
  if (outer.length !== 3 || !tbsT || !sigAlgT || !sigT || tbsT.tag !== 0x30 || sigAlgT.tag !== 0x30 || sigT.tag !== 0x03) {
    throw new MalformedInputError('Certificate must be SEQUENCE { tbs, algorithm, BIT STRING }', { path });
  }
  // Step 2: the signature algorithm OID.
  const algOid = readTlvs(sigAlgT.body, `${path}.signatureAlgorithm`)[0];
  if (algOid?.tag !== 0x06) throw new MalformedInputError('bad signatureAlgorithm', { path: `${path}.signatureAlgorithm` });
  // Step 3: the TBS fields, in order.
  const f = readTlvs(tbsT.body, `${path}.tbsCertificate`);
  let i = 0;
  let version = 1;
  if (f[0]?.tag === 0xa0) {
    const v = readTlv(f[0].body, `${path}.version`, 0x02).body;
    if (v.length !== 1 || v[0]! > 2) throw new MalformedInputError('unsupported certificate version', { path: `${path}.version` });
    version = v[0]! + 1;
    i = 1;
  }
  const need = (tag: number, name: string): Tlv => {
    const t = f[i++];
    if (!t || t.tag !== tag) throw new MalformedInputError(`missing or wrong ${name}`, { path: `${path}.${name}` });
    return t;
  };
  const serial = need(0x02, 'serialNumber');
  const tbsSigAlg = need(0x30, 'signature');
  const issuerT = need(0x30, 'issuer');
  const validity = need(0x30, 'validity');
  const subjectT = need(0x30, 'subject');
  const spkiT = need(0x30, 'subjectPublicKeyInfo');
  // Step 4: optional issuerUniqueID [1], subjectUniqueID [2], extensions [3], in that order only.
  let extT: Tlv | undefined;
  for (const t of f.slice(i)) {
    if (t.tag === 0x81 || t.tag === 0x82) {
      if (extT || version < 2) throw new MalformedInputError('misplaced unique identifier', { path });
    } else if (t.tag === 0xa3 && !extT && version === 3) {
      extT = t;
    } else {
      throw new MalformedInputError(`unexpected TBS field tag 0x${t.tag.toString(16)}`, { path });
    }
  }
  // Step 5: RFC 5280 §4.1.1.2: the signature algorithm inside and outside the TBS must be identical.
  if (toHex(tbsSigAlg.full) !== toHex(sigAlgT.full)) {
    throw new MalformedInputError('signatureAlgorithm differs from tbsCertificate.signature', { path });
  }
  // Step 6: serial (positive, at most 20 octets per §4.1.2.2; a few more are tolerated as real CAs overshoot).
  if (serial.body.length === 0 || serial.body.length > 32) throw new MalformedInputError('bad serial number length', { path });
  const serialBytes = serial.body[0] === 0 && serial.body.length > 1 ? serial.body.subarray(1) : serial.body;
  // Step 7: validity and signature value.
  const [nb, na, ...restV] = readTlvs(validity.body, `${path}.validity`);
  if (!nb || !na || restV.length) throw new MalformedInputError('validity must hold two times', { path: `${path}.validity` });
  const sigBits = sigT.body;
  if (sigBits.length < 2 || sigBits[0] !== 0) throw new MalformedInputError('signature BIT STRING has unused bits', { path });
  // Step 8: subjectPublicKeyInfo algorithm and, for EC keys, the named curve.
  const spkiParts = readTlvs(spkiT.body, `${path}.subjectPublicKeyInfo`);
  const alg = spkiParts[0] ? readTlvs(spkiParts[0].body, `${path}.subjectPublicKeyInfo.algorithm`) : [];
  if (spkiParts.length !== 2 || spkiParts[1]?.tag !== 0x03 || alg[0]?.tag !== 0x06) {
    throw new MalformedInputError('bad subjectPublicKeyInfo', { path: `${path}.subjectPublicKeyInfo` });
  }
  const keyAlgOid = decodeOid(alg[0].body, `${path}.subjectPublicKeyInfo.algorithm`);
  const curveOid = alg[1]?.tag === 0x06 ? decodeOid(alg[1].body, `${path}.subjectPublicKeyInfo.parameters`) : undefined;
  return {
    der,
    sha256: toHex(hash(TPM_ALG.SHA256, der)),
    version,
    serialHex: toHex(serialBytes),
    tbs: tbsT.full,
    sigAlgOid: decodeOid(algOid.body, `${path}.signatureAlgorithm`),
    sigAlgDer: sigAlgT.full,
    signature: sigBits.subarray(1),
    issuerDer: issuerT.full,
    subjectDer: subjectT.full,
    issuer: formatName(issuerT.full, `${path}.issuer`),
    subject: formatName(subjectT.full, `${path}.subject`),
    notBefore: decodeTime(nb, `${path}.validity.notBefore`),
    notAfter: decodeTime(na, `${path}.validity.notAfter`),
    spki: spkiT.full,
    spkiSha256: toHex(hash(TPM_ALG.SHA256, spkiT.full)),
    keyAlgOid,
    curveOid,
    ext: extT ? decodeExtensions(readTlv(extT.body, `${path}.extensions`, 0x30).body, `${path}.extensions`) : decodeExtensions(undefined, path),
  };
}

// RFC 5280 §4.1.2.5.1 (UTCTime) and §4.1.2.5.2 (GeneralizedTime): seconds present, Zulu, no fractions.
function decodeTime(t: Tlv, path: string): Date {
  const s = String.fromCharCode(...t.body);
  let m: RegExpMatchArray | null;
  let year: number;
  if (t.tag === 0x17 && (m = s.match(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/))) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (t.tag === 0x18 && (m = s.match(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/))) {
    year = Number(m[1]);
  } else {
    throw new MalformedInputError('time must be UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ', { path });
  }
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  // Reject impossible dates (Date.UTC silently rolls 2024-02-31 over into March).
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    throw new MalformedInputError('invalid calendar date', { path });
  }
  return date;
}
