/**
 * CBOR encoding of AIBOM documents (spec/aibom-v1.md §CBOR): read by the project's one strict CBOR reader
 * (src/util/cbor.ts, spec/strict-encodings.md §CBOR) — the JSON data model plus byte strings, text map keys only,
 * one optional leading self-describe tag — and written by its writer (src/util/cbor-write.ts).
 */
import { readCbor, hasSelfDescribeTag } from '../util/cbor.js';
import { writeCbor } from '../util/cbor-write.js';
import { MAX_JSON_DEPTH } from '../util/json.js';

/** True when the bytes start like a CBOR map (or the self-described tag), i.e. not a JSON text. */
export function looksLikeCbor(b: Uint8Array): boolean {
  const first = b[0];
  if (first === undefined) return false;
  return (first >= 0xa0 && first <= 0xbb) || hasSelfDescribeTag(b);
}

/** Checks one AIBOM CBOR document without keeping the value; returns where the item starts (after a self-describe tag). */
export function scanCbor(b: Uint8Array, maxDepth = MAX_JSON_DEPTH): number {
  readCbor(b, 'CBOR', { maxDepth, selfDescribe: true });
  return hasSelfDescribeTag(b) ? 3 : 0;
}

/** Decodes one AIBOM CBOR document with the strict reader. */
export function decodeCbor(b: Uint8Array): unknown {
  return readCbor(b, 'CBOR', { selfDescribe: true });
}

/** Encodes a value of the JSON data model plus Uint8Array byte strings. */
export function encodeCbor(v: unknown): Uint8Array {
  return writeCbor(v);
}
