/**
 * Strict decoders for the X.509 extensions the AK chain validator enforces, plus the list of critical
 * extensions it does not process (which must fail validation).
 */
import { MalformedInputError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import { decodeOid, readTlv, readTlvs } from './x509-der.js';

export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_EKU = '2.5.29.37';
export const OID_SAN = '2.5.29.17';
export const OID_SKI = '2.5.29.14';
export const OID_AKI = '2.5.29.35';
export const OID_CERT_POLICIES = '2.5.29.32';
export const OID_NAME_CONSTRAINTS = '2.5.29.30';

/** Extensions whose criticality we honour. certificatePolicies: we run with initial-policy-set = anyPolicy. */
const HANDLED = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE, OID_EKU, OID_SKI, OID_AKI, OID_CERT_POLICIES]);

export interface CertExtensions {
  basicConstraints: { ca: boolean; pathLen: number | undefined } | undefined;
  /** keyUsage bits as in RFC 5280 §4.2.1.3 (bit 0 = digitalSignature ... bit 5 = keyCertSign). */
  keyUsage: { digitalSignature: boolean; keyCertSign: boolean } | undefined;
  eku: string[] | undefined;
  /** subjectAltName: whether every GeneralName is a directoryName, and the first directoryName's DER. */
  san: { critical: boolean; directoryNameOnly: boolean; directoryName: Uint8Array | undefined } | undefined;
  skiHex: string | undefined;
  akiKeyIdHex: string | undefined;
  /** True when the certificate carries nameConstraints (critical or not); the path validator refuses them. */
  nameConstraints: boolean;
  /** OIDs of critical extensions this validator does not process. */
  unhandledCritical: string[];
}

// RFC 5280 §4.1 (Extensions) and §4.2 https://www.rfc-editor.org/rfc/rfc5280#section-4.2
/** Decodes the contents of the Extensions SEQUENCE (undefined = a certificate without extensions). */
export function decodeExtensions(body: Uint8Array | undefined, path: string): CertExtensions {
  const out: CertExtensions = {
    basicConstraints: undefined,
    keyUsage: undefined,
    eku: undefined,
    san: undefined,
    skiHex: undefined,
    akiKeyIdHex: undefined,
    nameConstraints: false,
    unhandledCritical: [],
  };
  if (body === undefined) return out;
  const seen = new Set<string>();
  const list = readTlvs(body, path);
  if (list.length === 0) throw new MalformedInputError('empty extensions', { path });
  for (const e of list) {
    // Step 1: Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
    const parts = e.tag === 0x30 ? readTlvs(e.body, path) : [];
    const idT = parts[0];
    const critT = parts.length === 3 ? parts[1] : undefined;
    const valT = parts[parts.length - 1];
    if (!idT || idT.tag !== 0x06 || !valT || valT.tag !== 0x04 || parts.length > 3 || (critT && critT.tag !== 0x01)) {
      throw new MalformedInputError('bad Extension', { path });
    }
    const oid = decodeOid(idT.body, path);
    const p = `${path}[${oid}]`;
    const critical = critT ? decodeBool(critT.body, p) : false;
    // Step 2: RFC 5280 §4.2: at most one instance of each extension.
    if (seen.has(oid)) throw new MalformedInputError('duplicate extension', { path: p });
    seen.add(oid);
    // Step 3: decode the ones we enforce; remember critical ones we do not understand.
    const v = valT.body;
    if (oid === OID_BASIC_CONSTRAINTS) out.basicConstraints = decodeBasicConstraints(v, p);
    else if (oid === OID_KEY_USAGE) out.keyUsage = decodeKeyUsage(v, p);
    else if (oid === OID_EKU) out.eku = decodeEku(v, p);
    else if (oid === OID_SKI) out.skiHex = toHex(readTlv(v, p, 0x04).body);
    else if (oid === OID_AKI) out.akiKeyIdHex = decodeAki(v, p);
    else if (oid === OID_CERT_POLICIES) readTlv(v, p, 0x30);
    else if (oid === OID_SAN) out.san = { critical, ...decodeSan(v, p) };
    else if (oid === OID_NAME_CONSTRAINTS) out.nameConstraints = true;
    if (critical && !HANDLED.has(oid)) {
      // A critical SAN is understood only when it carries nothing but directoryNames (TPM AK/EK certificates).
      if (!(oid === OID_SAN && out.san?.directoryNameOnly)) out.unhandledCritical.push(oid);
    }
  }
  return out;
}

/** DER BOOLEAN (0x00 or 0xFF). */
function decodeBool(b: Uint8Array, path: string): boolean {
  if (b.length !== 1 || (b[0] !== 0 && b[0] !== 0xff)) throw new MalformedInputError('bad BOOLEAN', { path });
  return b[0] === 0xff;
}

// RFC 5280 §4.2.1.9: BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
function decodeBasicConstraints(v: Uint8Array, path: string): { ca: boolean; pathLen: number | undefined } {
  const parts = readTlvs(readTlv(v, path, 0x30).body, path);
  let i = 0;
  let ca = false;
  if (parts[i]?.tag === 0x01) ca = decodeBool(parts[i++]!.body, path);
  let pathLen: number | undefined;
  const pl = parts[i];
  if (pl?.tag === 0x02) {
    // A non-negative INTEGER; anything above 255 is clamped (it cannot bind any real chain).
    if (pl.body.length === 0 || (pl.body[0]! & 0x80) !== 0) throw new MalformedInputError('bad pathLenConstraint', { path });
    pathLen = pl.body.length > 2 ? 255 : pl.body.reduce((a, b) => a * 256 + b, 0);
    i++;
  }
  if (i !== parts.length) throw new MalformedInputError('bad BasicConstraints', { path });
  return { ca, pathLen };
}

// RFC 5280 §4.2.1.3: KeyUsage ::= BIT STRING
function decodeKeyUsage(v: Uint8Array, path: string): { digitalSignature: boolean; keyCertSign: boolean } {
  const b = readTlv(v, path, 0x03).body;
  if (b.length < 1 || b[0]! > 7 || (b.length === 1 && b[0] !== 0)) throw new MalformedInputError('bad KeyUsage', { path });
  const first = b[1] ?? 0;
  return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
}

// RFC 5280 §4.2.1.12: ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId
function decodeEku(v: Uint8Array, path: string): string[] {
  const items = readTlvs(readTlv(v, path, 0x30).body, path);
  if (items.length === 0) throw new MalformedInputError('empty ExtKeyUsage', { path });
  return items.map((t) => {
    if (t.tag !== 0x06) throw new MalformedInputError('KeyPurposeId must be an OID', { path });
    return decodeOid(t.body, path);
  });
}

// RFC 5280 §4.2.1.6: GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName; directoryName is [4] EXPLICIT Name.
function decodeSan(v: Uint8Array, path: string): { directoryNameOnly: boolean; directoryName: Uint8Array | undefined } {
  const names = readTlvs(readTlv(v, path, 0x30).body, path);
  if (names.length === 0) throw new MalformedInputError('empty subjectAltName', { path });
  let directoryName: Uint8Array | undefined;
  let only = true;
  for (const n of names) {
    if ((n.tag & 0xc0) !== 0x80 || (n.tag & 0x1f) > 8) throw new MalformedInputError('bad GeneralName', { path });
    if (n.tag === 0xa4) directoryName ??= readTlv(n.body, path, 0x30).full;
    else only = false;
  }
  return { directoryNameOnly: only, directoryName };
}

// RFC 5280 §4.2.1.1: AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL, [1], [2] }
function decodeAki(v: Uint8Array, path: string): string | undefined {
  const parts = readTlvs(readTlv(v, path, 0x30).body, path);
  const kid = parts.find((p) => p.tag === 0x80);
  return kid ? toHex(kid.body) : undefined;
}
