/**
 * Certificate input decoding: PEM text/bytes and DER bytes -> a list of DER certificates, plus a strict DER
 * well-formedness walk that runs before any field is decoded (bounded depth, minimal definite lengths,
 * no trailing data), so the ASN.1 library only parses trees we already know to be sane.
 */
import { MalformedInputError } from '../errors.js';
import { tryUtf8Decode } from '../util/bytes.js';
import { readPem } from './pem.js';
import { Reader } from './reader.js';

/** DER bytes, PEM text (may hold several certificates), or PEM bytes. */
export type CertInput = Uint8Array | string;

/** Largest accepted certificate (DER) and largest number of certificates in one call. */
export const MAX_CERT_BYTES = 64 * 1024;
export const MAX_CERTS = 64;
/** Deepest ASN.1 nesting accepted; real certificates stay below 12. */
export const MAX_DER_DEPTH = 24;

// ITU-T X.690 (02/2021) §8.1 and §10.1 https://www.itu.int/rec/T-REC-X.690
/** Checks that `der` is exactly one DER TLV whose constructed contents are DER too; throws MalformedInputError. */
export function checkDer(der: Uint8Array, path: string): void {
  try {
    const r = new Reader(der, path);
    walkTlv(r, path, 0);
    r.end();
  } catch (e) {
    // Reader errors carry the offset; add the input path so callers can tell which certificate failed.
    if (e instanceof MalformedInputError && e.path === undefined) {
      throw new MalformedInputError(e.message, { path, ...(e.offset !== undefined ? { offset: e.offset } : {}) });
    }
    throw e;
  }
}

/** Reads one TLV at the reader's position and walks into it when constructed. */
function walkTlv(r: Reader, path: string, depth: number): void {
  // Bound the nesting so hostile inputs cannot exhaust the stack.
  if (depth > MAX_DER_DEPTH) r.fail(`ASN.1 nesting deeper than ${MAX_DER_DEPTH}`);
  const start = r.offset;
  const tag = r.u8('tag');
  // High-tag-number form: certificates never use it, so it is rejected rather than parsed.
  if ((tag & 0x1f) === 0x1f) r.fail('high-tag-number form is not used in certificates', start);
  const len = readLength(r);
  const body = r.sub(len, `${path} contents`);
  if ((tag & 0x20) === 0) return;
  // Constructed: the contents must be a whole sequence of TLVs.
  while (body.remaining > 0) walkTlv(body, path, depth + 1);
}

/** Reads a DER definite length (short form below 128, otherwise minimal long form of at most 4 bytes). */
function readLength(r: Reader): number {
  const at = r.offset;
  const first = r.u8('length');
  if (first < 0x80) return first;
  if (first === 0x80) r.fail('indefinite length is not DER', at);
  const n = first & 0x7f;
  if (n > 4) r.fail('length field longer than 4 bytes', at);
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + r.u8('length');
  // DER requires the shortest form: no leading zero byte, and long form only for lengths of 128 or more.
  if (len < 0x80 || len < 2 ** (8 * (n - 1))) r.fail('non-minimal DER length', at);
  return len;
}

const pemCache = new Map<string, Uint8Array[]>();
const MAX_PEM_CACHE = 256;

/** decodePem with a small cache keyed by the text (trust stores are passed as the same PEM strings each call). */
function decodePemCached(text: string, path: string): Uint8Array[] {
  const hit = pemCache.get(text);
  if (hit) return hit;
  const ders = decodePem(text, path);
  if (pemCache.size >= MAX_PEM_CACHE) pemCache.clear();
  pemCache.set(text, ders);
  return ders;
}

// RFC 7468 §5.1 (textual encoding of certificates) https://www.rfc-editor.org/rfc/rfc7468#section-5.1
/** Decodes every CERTIFICATE block of PEM text (the one PEM reader, src/tpm/pem.ts); any other label is an error. */
export function decodePem(text: string, path: string): Uint8Array[] {
  return readPem(text, path).map((b, i) => {
    // Only certificates belong here: a key or CSR block is a caller mistake worth reporting.
    if (b.label !== 'CERTIFICATE') throw new MalformedInputError(`unexpected PEM label "${b.label}"`, { path: `${path} PEM block ${i}` });
    return b.der;
  });
}

/** True when bytes look like PEM text (a BEGIN marker after optional whitespace/BOM). */
function looksLikePem(b: Uint8Array): boolean {
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return b[i] === 0x2d; // '-'
}

/** One input -> DER certificates (not yet parsed beyond the DER walk). */
function decodeOne(input: CertInput, path: string): Uint8Array[] {
  let ders: Uint8Array[];
  if (typeof input === 'string') {
    ders = decodePemCached(input, path);
  } else if (input instanceof Uint8Array) {
    if (input.length === 0) throw new MalformedInputError('empty certificate input', { path });
    if (looksLikePem(input)) {
      const text = tryUtf8Decode(input);
      if (text === undefined) throw new MalformedInputError('PEM bytes are not UTF-8', { path });
      ders = decodePem(text, path);
    } else {
      ders = [input];
    }
  } else {
    throw new TypeError(`${path} must be a Uint8Array or a string`);
  }
  // Size cap on every certificate (the strict DER walk runs when the certificate is parsed).
  ders.forEach((d, i) => {
    const p = ders.length > 1 ? `${path}[${i}]` : path;
    if (d.length > MAX_CERT_BYTES) throw new MalformedInputError(`certificate larger than ${MAX_CERT_BYTES} bytes`, { path: p });
  });
  return ders;
}

/**
 * Decodes certificates given as DER bytes, PEM text or PEM bytes (one value or a list; forms may be mixed).
 * Returns the DER of every certificate in input order, WITHOUT copying (DER inputs are returned as given and
 * PEM results may be shared with a cache): callers must not mutate them and must run parseCert on each.
 */
export function parseCertificates(input: CertInput | CertInput[], path = 'certs'): Uint8Array[] {
  const list = Array.isArray(input) ? input : [input];
  const out: Uint8Array[] = [];
  list.forEach((item, i) => {
    out.push(...decodeOne(item, Array.isArray(input) ? `${path}[${i}]` : path));
    if (out.length > MAX_CERTS) throw new MalformedInputError(`more than ${MAX_CERTS} certificates`, { path });
  });
  return out;
}

/** One DER TLV: its tag byte, the whole encoding and the contents. */
export interface Tlv {
  tag: number;
  full: Uint8Array;
  body: Uint8Array;
}

/** Splits bytes into consecutive TLVs (throws MalformedInputError unless they tile the input exactly). */
export function readTlvs(bytes: Uint8Array, what: string): Tlv[] {
  const r = new Reader(bytes, what);
  const out: Tlv[] = [];
  while (r.remaining > 0) {
    const start = r.offset;
    const tag = r.u8('tag');
    if ((tag & 0x1f) === 0x1f) r.fail('high-tag-number form', start);
    const body = r.bytesN(readLength(r), 'contents');
    out.push({ tag, full: bytes.subarray(start, r.offset), body });
  }
  return out;
}

/** Exactly one TLV with the expected tag (when given). */
export function readTlv(bytes: Uint8Array, what: string, tag?: number): Tlv {
  const all = readTlvs(bytes, what);
  const t = all[0];
  if (all.length !== 1 || !t) throw new MalformedInputError(`expected exactly one ASN.1 element`, { path: what });
  if (tag !== undefined && t.tag !== tag) {
    throw new MalformedInputError(`expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`, { path: what });
  }
  return t;
}

// X.690 §8.19 (object identifier encoding)
/** Dotted form of an OBJECT IDENTIFIER's contents (strict: minimal sub-identifiers, no truncation). */
export function decodeOid(body: Uint8Array, what = 'OID'): string {
  if (body.length === 0 || body.length > 64) throw new MalformedInputError('bad OBJECT IDENTIFIER length', { path: what });
  const arcs: number[] = [];
  let v = 0;
  let fresh = true;
  for (const b of body) {
    if (fresh && b === 0x80) throw new MalformedInputError('non-minimal OID sub-identifier', { path: what });
    if (v > 2 ** 45) throw new MalformedInputError('OID sub-identifier too large', { path: what });
    v = v * 128 + (b & 0x7f);
    fresh = (b & 0x80) === 0;
    if (fresh) {
      arcs.push(v);
      v = 0;
    }
  }
  if (!fresh) throw new MalformedInputError('truncated OID', { path: what });
  const first = arcs[0] ?? 0;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

const latin1 = /* @__PURE__ */ new TextDecoder('latin1');
/** Text of an X.520 DirectoryString / IA5String etc.; undefined for other tags or invalid encodings. */
export function decodeString(tag: number, body: Uint8Array): string | undefined {
  switch (tag) {
    case 0x0c: // UTF8String
      return tryUtf8Decode(body);
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
    case 0x14: // TeletexString (read as Latin-1, as most tools do)
      return latin1.decode(body);
    case 0x1e: {
      // BMPString: UCS-2 big-endian
      if (body.length % 2) return undefined;
      let s = '';
      for (let i = 0; i < body.length; i += 2) s += String.fromCharCode((body[i]! << 8) | body[i + 1]!);
      return s;
    }
    default:
      return undefined;
  }
}
