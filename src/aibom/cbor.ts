/**
 * CBOR encoding of AIBOM documents (spec/aibom-v1.md §CBOR). A strict pre-scan admits only the JSON data model plus
 * byte strings — definite lengths, text-string map keys without duplicates, no tags (except a leading self-described
 * CBOR tag 55799), no undefined/simple values, integers within ±2^53, bounded depth — and only then the one configured
 * cbor-x Decoder builds the value. RFC 8949 https://www.rfc-editor.org/rfc/rfc8949
 */
import { Decoder, Encoder } from 'cbor-x';
import { MalformedInputError } from '../errors.js';
import { MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH } from './json.js';

/** The CBOR sniff lives with the shared decoding (document.ts); re-exported for callers of this module. */
export { looksLikeCbor } from './document.js';

const SELF_DESCRIBED = [0xd9, 0xd9, 0xf7];

const utf8 = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true });

/** The single decoder configuration: plain objects, no records/structures/bundled strings, copied buffers. */
// Pure annotations: a bundle that never decodes CBOR drops cbor-x.
const decoder = /* @__PURE__ */ new Decoder({ mapsAsObjects: true, useRecords: false, structuredClone: false, bundleStrings: false, copyBuffers: true });
const encoder = /* @__PURE__ */ new Encoder({
  mapsAsObjects: true,
  useRecords: false,
  structuredClone: false,
  bundleStrings: false,
  tagUint8Array: false,
  useToJSON: false,
  variableMapSize: true,
  useFloat32: 0,
});

interface Frame {
  left: number;
  keys?: Set<string>;
  /** For maps: true when the next item is a key. */
  keyNext?: boolean;
}

// RFC 8949 §3 (major types, additional information) and §3.1.
/** Walks the item structure; throws MalformedInputError at the first byte outside the admitted subset. */
export function scanCbor(b: Uint8Array, maxDepth = MAX_JSON_DEPTH): number {
  let i = 0;
  if (b[0] === SELF_DESCRIBED[0] && b[1] === SELF_DESCRIBED[1] && b[2] === SELF_DESCRIBED[2]) i = 3;
  const start = i;
  const stack: Frame[] = [{ left: 1 }];
  const fail = (msg: string, at = i): never => {
    throw new MalformedInputError(`CBOR: ${msg}`, { offset: at });
  };
  const arg = (ai: number, at: number): number => {
    if (ai < 24) return ai;
    const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : fail(ai === 31 ? 'indefinite length' : 'reserved additional information', at);
    if (i + n > b.length) fail('truncated', at);
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + b[i + k]!;
    i += n;
    if (v > Number.MAX_SAFE_INTEGER) fail('integer beyond 2^53', at);
    return v;
  };
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.left === 0) {
      stack.pop();
      continue;
    }
    top.left--;
    const isKey = top.keys !== undefined && top.keyNext === true;
    if (top.keys) top.keyNext = !top.keyNext;
    const at = i;
    const ib = b[i++];
    if (ib === undefined) fail('truncated', at);
    const major = ib! >> 5;
    const ai = ib! & 31;
    if (isKey && major !== 3) fail('map key is not a text string', at);
    if (major === 6) fail('tags are not allowed', at);
    if (major === 7) {
      if (ai === 20 || ai === 21 || ai === 22) continue;
      if (ai === 25 || ai === 26 || ai === 27) {
        const n = ai === 25 ? 2 : ai === 26 ? 4 : 8;
        if (i + n > b.length) fail('truncated', at);
        i += n;
        continue;
      }
      fail(`simple value ${ai} is not allowed`, at);
    }
    const v = arg(ai, at);
    if (major === 0 || major === 1) continue;
    if (major === 2 || major === 3) {
      if (v > b.length - i) fail('string longer than the remaining input', at);
      if (major === 3) {
        let s = '';
        try {
          s = utf8.decode(b.subarray(i, i + v));
        } catch {
          fail('text string is not valid UTF-8', at);
        }
        if (isKey) {
          if (top.keys!.has(s)) fail(`duplicate map key ${JSON.stringify(s).slice(0, 60)}`, at);
          top.keys!.add(s);
        }
      }
      i += v;
      continue;
    }
    // Arrays and maps: every item takes at least one byte, so counts are bounded by the bytes left.
    const items = major === 5 ? 2 * v : v;
    if (items > b.length - i) fail('more items than bytes left', at);
    if (stack.length > maxDepth) fail(`nesting deeper than ${maxDepth}`, at);
    stack.push(major === 5 ? { left: items, keys: new Set(), keyNext: true } : { left: items });
  }
  if (i !== b.length) fail('trailing data after the CBOR item');
  return start;
}

/** Decodes one AIBOM CBOR document after the strict scan. */
export function decodeCbor(b: Uint8Array): unknown {
  if (b.length > MAX_DOCUMENT_BYTES) throw new MalformedInputError(`CBOR: larger than ${MAX_DOCUMENT_BYTES} bytes`, { offset: 0 });
  const start = scanCbor(b);
  try {
    return decoder.decode(b.subarray(start)) as unknown;
  } catch (e) {
    throw new MalformedInputError(`CBOR: ${(e as Error).message}`, { offset: 0 });
  }
}

/** Encodes a value of the JSON data model plus Uint8Array byte strings. */
export function encodeCbor(v: unknown): Uint8Array {
  const out = encoder.encode(v);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
}
