/**
 * loadAibom: parseAibom for verifyAibom, with the CBOR decoder and the original-format parser imported only when the
 * document needs them, so a JSON AIBOM v1 never loads either (spec/aibom-v1.md §2, detection).
 */
import { checkCborByteFields, decodeWith, legacyAsCbor, looksLikeCbor, notADocument } from './document.js';
import type { Evidence } from './types.js';
import { isAibomDocument, parseV1 } from './v1.js';

/** Parses any supported document into evidence, loading format code on demand. */
export async function loadAibom(doc: Uint8Array | string | object): Promise<Evidence> {
  // CBOR bytes: load the strict decoder first (the size bound is checked by decodeWith before it runs).
  const cbor = doc instanceof Uint8Array && looksLikeCbor(doc) ? (await import('./cbor.js')).decodeCbor : undefined;
  const v = decodeWith(doc, () => cbor!);
  if (isAibomDocument(v)) {
    // In CBOR every byte field is a byte string: base64 text there is a second spelling, refused.
    if (cbor) checkCborByteFields(v);
    return parseV1(v);
  }
  // The original attestation.json format, JSON only.
  const legacy = await import('./legacy.js');
  if (legacy.isLegacyDocument(v)) {
    if (cbor) throw legacyAsCbor();
    return legacy.parseLegacy(v);
  }
  throw notADocument();
}
