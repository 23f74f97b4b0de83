/**
 * parseAibom: auto-detects the document (original attestation.json, AIBOM v1 JSON, AIBOM v1 CBOR) and returns the
 * normalised evidence. Parsing proves nothing; verifyAibom does. spec/aibom-v1.md §2 (detection),
 * spec/strict-encodings.md (the readers and the refused spellings).
 */
import { decodeCbor, looksLikeCbor } from './cbor.js';
import { checkCborByteFields, decodeWith, legacyAsCbor, notADocument } from './document.js';
import { isLegacyDocument, parseLegacy } from './legacy.js';
import type { Evidence } from './types.js';
import { isAibomDocument, parseV1 } from './v1.js';

/** Decodes bytes/text/object to the document's data model. */
export function decodeDocument(doc: Uint8Array | string | object): unknown {
  return decodeWith(doc, () => decodeCbor);
}

/** Parses any supported document into evidence. */
export function parseAibom(doc: Uint8Array | string | object): Evidence {
  const v = decodeDocument(doc);
  const cbor = doc instanceof Uint8Array && looksLikeCbor(doc);
  if (isAibomDocument(v)) {
    // In CBOR every byte field is a byte string: base64 text there is a second spelling, refused.
    if (cbor) checkCborByteFields(v);
    return parseV1(v);
  }
  if (isLegacyDocument(v)) {
    if (cbor) throw legacyAsCbor();
    return parseLegacy(v);
  }
  throw notADocument();
}
