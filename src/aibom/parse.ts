/**
 * parseAibom: auto-detects the document (original attestation.json, AIBOM v1 JSON, AIBOM v1 CBOR) and returns the
 * normalised evidence. Parsing proves nothing; verifyAibom does. spec/aibom-v1.md §2 (detection),
 * spec/strict-encodings.md (the readers and the refused spellings).
 */
import { MalformedInputError } from '../errors.js';
import { decodeCbor, looksLikeCbor } from './cbor.js';
import { isObj, MAX_DOCUMENT_BYTES, parseStrictJson, type Obj } from './json.js';
import { isLegacyDocument, parseLegacy } from './legacy.js';
import type { Evidence } from './types.js';
import { isAibomDocument, parseV1 } from './v1.js';

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

/** The document's data model and the encoding it came in. */
function decode(doc: Uint8Array | string | object): { v: unknown; cbor: boolean } {
  if (typeof doc === 'string') return { v: parseStrictJson(doc, 'document'), cbor: false };
  if (doc instanceof Uint8Array) {
    if (doc.length > MAX_DOCUMENT_BYTES) throw new MalformedInputError(`document larger than ${MAX_DOCUMENT_BYTES} bytes`, { offset: 0 });
    return looksLikeCbor(doc) ? { v: decodeCbor(doc), cbor: true } : { v: parseStrictJson(doc, 'document'), cbor: false };
  }
  if (typeof doc === 'object' && doc !== null) {
    checkPlain(doc, 0, '$');
    return { v: doc, cbor: false };
  }
  throw new TypeError('doc must be a Uint8Array, a string or an object');
}

/** Decodes bytes/text/object to the document's data model. */
export function decodeDocument(doc: Uint8Array | string | object): unknown {
  return decode(doc).v;
}

/** Parses any supported document into evidence. */
export function parseAibom(doc: Uint8Array | string | object): Evidence {
  const { v, cbor } = decode(doc);
  if (isAibomDocument(v)) {
    // In CBOR every byte field is a byte string: base64 text there is a second spelling, refused.
    if (cbor) checkCborByteFields(v);
    return parseV1(v);
  }
  // The original format is JSON only (spec/strict-encodings.md §Formats): a CBOR spelling of it is refused.
  if (isLegacyDocument(v)) {
    if (cbor) throw new MalformedInputError('the original aicert attestation is JSON only; a CBOR encoding of it is refused', { path: '$' });
    return parseLegacy(v);
  }
  throw new MalformedInputError('neither an AIBOM (_type https://aicert.dev/aibom/...) nor an original aicert attestation (remote_attestation)', { path: '$' });
}

/** AIBOM v1 byte fields in a CBOR document: byte strings (certificates may also be PEM text), never base64 text. */
function checkCborByteFields(doc: Obj): void {
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
