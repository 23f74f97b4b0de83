/**
 * parseAibom: auto-detects the document (original attestation.json, AIBOM v1 JSON, AIBOM v1 CBOR) and returns the
 * normalised evidence. Parsing proves nothing; verifyAibom does. spec/aibom-v1.md §2 (detection).
 */
import { MalformedInputError } from '../errors.js';
import { decodeCbor, looksLikeCbor } from './cbor.js';
import { isObj, MAX_DOCUMENT_BYTES, parseStrictJson } from './json.js';
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

/** Decodes bytes/text/object to the document's data model. */
export function decodeDocument(doc: Uint8Array | string | object): unknown {
  if (typeof doc === 'string') return parseStrictJson(doc, 'document');
  if (doc instanceof Uint8Array) {
    if (doc.length > MAX_DOCUMENT_BYTES) throw new MalformedInputError(`document larger than ${MAX_DOCUMENT_BYTES} bytes`, { offset: 0 });
    return looksLikeCbor(doc) ? decodeCbor(doc) : parseStrictJson(doc, 'document');
  }
  if (typeof doc === 'object' && doc !== null) {
    checkPlain(doc, 0, '$');
    return doc;
  }
  throw new TypeError('doc must be a Uint8Array, a string or an object');
}

/** Parses any supported document into evidence. */
export function parseAibom(doc: Uint8Array | string | object): Evidence {
  const v = decodeDocument(doc);
  if (isAibomDocument(v)) return parseV1(v);
  if (isLegacyDocument(v)) return parseLegacy(v);
  throw new MalformedInputError('neither an AIBOM (_type https://aicert.dev/aibom/...) nor an original aicert attestation (remote_attestation)', { path: '$' });
}
