/**
 * The document decoding every path shares (spec/aibom-v1.md §2, detection): JSON text, caller objects, and the sniff
 * that tells CBOR bytes from JSON. The CBOR decoder (cbor.ts) and the original-format parser (legacy.ts) are not
 * imported here, so verifyAibom loads them only for documents that need them (load.ts).
 */
import { MalformedInputError } from '../errors.js';
import { isObj, MAX_DOCUMENT_BYTES, parseStrictJson, type Obj } from './json.js';

const SELF_DESCRIBED = [0xd9, 0xd9, 0xf7];

/** True when the bytes start like a CBOR map (or the self-described tag), i.e. not a JSON text. */
export function looksLikeCbor(b: Uint8Array): boolean {
  const first = b[0];
  if (first === undefined) return false;
  return (first >= 0xa0 && first <= 0xbb) || (first === SELF_DESCRIBED[0] && b[1] === SELF_DESCRIBED[1] && b[2] === SELF_DESCRIBED[2]);
}

/** Checks that a caller-supplied object holds only the JSON data model plus Uint8Array (depth-bounded). */
function checkPlain(v: unknown, depth: number, path: string): void {
  if (depth > 32) throw new MalformedInputError('nesting deeper than 32', { path });
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || v instanceof Uint8Array) return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new MalformedInputError('non-finite number', { path });
    return;
  }
  if (Array.isArray(v)) return v.forEach((x, i) => checkPlain(x, depth + 1, `${path}[${i}]`));
  if (isObj(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    for (const [k, x] of Object.entries(v)) checkPlain(x, depth + 1, `${path}.${k}`);
    return;
  }
  throw new MalformedInputError(`unsupported value of type ${typeof v}`, { path });
}

/**
 * Decodes a document to its data model, with `cbor` decoding CBOR bytes (the caller supplies it, loaded or not).
 */
export function decodeWith(doc: Uint8Array | string | object, cbor: () => (b: Uint8Array) => unknown): unknown {
  if (typeof doc === 'string') return parseStrictJson(doc, 'document');
  if (doc instanceof Uint8Array) {
    if (doc.length > MAX_DOCUMENT_BYTES) throw new MalformedInputError(`document larger than ${MAX_DOCUMENT_BYTES} bytes`, { offset: 0 });
    return looksLikeCbor(doc) ? cbor()(doc) : parseStrictJson(doc, 'document');
  }
  if (typeof doc === 'object' && doc !== null) {
    checkPlain(doc, 0, '$');
    return doc;
  }
  throw new TypeError('doc must be a Uint8Array, a string or an object');
}

/** The error for a value that is neither document format. */
export function notADocument(): MalformedInputError {
  return new MalformedInputError('neither an AIBOM (_type https://aicert.dev/aibom/...) nor an original aicert attestation (remote_attestation)', { path: '$' });
}

/** AIBOM v1 byte fields in a CBOR document: byte strings (certificates may also be PEM text), never base64 text. */
export function checkCborByteFields(doc: Obj): void {
  const need = (v: unknown, path: string, pem = false): void => {
    if (v === undefined || v instanceof Uint8Array) return;
    if (pem && typeof v === 'string' && v.includes('-----BEGIN')) return;
    throw new MalformedInputError('in CBOR a byte field must be a byte string (base64 text is the JSON spelling)', { path });
  };
  need(doc.statement, 'statement');
  const ev = isObj(doc.evidence) ? doc.evidence : {};
  const tpm = isObj(ev.tpm) ? ev.tpm : {};
  for (const f of ['attest', 'signature', 'akPublic']) need(tpm[f], `evidence.tpm.${f}`);
  if (Array.isArray(tpm.akCertificates)) tpm.akCertificates.forEach((c, i) => need(c, `evidence.tpm.akCertificates[${i}]`, true));
  need(ev.bootEventLog, 'evidence.bootEventLog');
  const cvm = isObj(ev.cvm) ? ev.cvm : {};
  need(cvm.hclReport, 'evidence.cvm.hclReport');
  need(cvm.tdQuote, 'evidence.cvm.tdQuote');
  need(cvm.vcek, 'evidence.cvm.vcek', true);
  if (Array.isArray(cvm.vcekChain)) cvm.vcekChain.forEach((c, i) => need(c, `evidence.cvm.vcekChain[${i}]`, true));
}

/** The original format is JSON only (spec/strict-encodings.md §Formats): a CBOR spelling of it is refused. */
export function legacyAsCbor(): MalformedInputError {
  return new MalformedInputError('the original aicert attestation is JSON only; a CBOR encoding of it is refused', { path: '$' });
}
