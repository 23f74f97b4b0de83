/**
 * AIBOM field accessors over values from the project's strict JSON and CBOR readers (src/util/json.ts,
 * src/util/cbor.ts; spec/strict-encodings.md): each accessor fails with a field path.
 */
import { MalformedInputError } from '../errors.js';
import { runtimeBuffer } from '../util/builtins.js';
import { MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH, readJson } from '../util/json.js';

export { MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH };

/** Strict UTF-8 + strict JSON (src/util/json.ts): bytes or text in, the parsed value out. */
export function parseStrictJson(input: Uint8Array | string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  return readJson(input, what, { maxDepth });
}

/** A JSON object (not an array, not null). */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Field accessors: each throws MalformedInputError naming the field path. */
export function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new MalformedInputError(`expected an object`, { path });
  return v;
}
export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new MalformedInputError(`expected a string`, { path });
  return v;
}
export function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new MalformedInputError(`expected an array`, { path });
  return v;
}
export function optStr(v: unknown, path: string): string | undefined {
  return v === undefined ? undefined : str(v, path);
}

const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
const b64 = (s: string, i: number): number => {
  const c = s.charCodeAt(i);
  return c < 128 ? B64[c]! : -1;
};

/**
 * Canonical base64: the standard alphabet with padding (RFC 4648 §4), and re-encoding the bytes must give the very
 * same text (unused low bits zero). No two accepted texts decode to the same bytes, so every character is bound.
 * One pass: each quad is checked and decoded; the unused-bits rule is checked on the last quad.
 */
export function canonicalBase64(s: string, path: string): Uint8Array {
  return (s.length >= BULK_BASE64 && nativeCanonical(s)) || jsCanonicalBase64(s, path);
}

// Texts this long (statements, boot logs) are decoded by the runtime's Buffer where it offers one (Node, Deno, Bun).
const BULK_BASE64 = 4096;

/**
 * Native decode, then the definition itself: re-encoding the bytes (standard alphabet, padded) must give the very
 * same text. Buffer's decoder skips characters outside the alphabet and accepts the URL-safe one, but none of that
 * survives the comparison. Undefined when there is no Buffer or the text is not canonical (the JavaScript reader
 * then decodes it or names the fault).
 */
function nativeCanonical(s: string): Uint8Array | undefined {
  const B = runtimeBuffer();
  const b = B?.from(s, 'base64');
  if (!b || b.toString('base64') !== s) return undefined;
  // A view when the bytes own their memory; a copy when they sit in Buffer's shared pool.
  return b.byteOffset === 0 && b.buffer.byteLength === b.length ? new Uint8Array(b.buffer) : new Uint8Array(b);
}

/** The portable reader: one pass, each quad checked and decoded; the unused-bits rule on the last quad. */
function jsCanonicalBase64(s: string, path: string): Uint8Array {
  const bad = (why: string): never => {
    throw new MalformedInputError(why, { path });
  };
  if (s.length % 4 !== 0) bad('not standard padded base64');
  const pads = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pads);
  const full = s.length - (pads ? 4 : 0);
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const n = (b64(s, i) << 18) | (b64(s, i + 1) << 12) | (b64(s, i + 2) << 6) | b64(s, i + 3);
    // Any -1 (a character outside the alphabet) makes n negative.
    if (n < 0) bad('not standard padded base64');
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (pads) {
    const c0 = b64(s, full);
    const c1 = b64(s, full + 1);
    const c2 = pads === 1 ? b64(s, full + 2) : 0;
    if (c0 < 0 || c1 < 0 || c2 < 0) bad('not standard padded base64');
    if (pads === 2 ? (c1 & 15) !== 0 : (c2 & 3) !== 0) bad('non-canonical base64 (unused bits set)');
    out[o++] = (c0 << 2) | (c1 >> 4);
    if (pads === 1) out[o++] = ((c1 & 15) << 4) | (c2 >> 2);
  }
  return out;
}

/** Bytes: a CBOR byte string, or canonical base64 text (JSON); `maxBytes` is checked before any decoding. */
export function bytesField(v: unknown, path: string, maxBytes?: number): Uint8Array {
  const tooBig = (): never => {
    throw new MalformedInputError(`larger than ${maxBytes} bytes`, { path });
  };
  if (v instanceof Uint8Array) return maxBytes !== undefined && v.length > maxBytes ? tooBig() : new Uint8Array(v);
  const s = str(v, path);
  if (maxBytes !== undefined && s.length > 4 * Math.ceil(maxBytes / 3)) tooBig();
  return canonicalBase64(s, path);
}

/** Lowercase hex only (the canonical form), optionally of a fixed byte length. */
export function lowerHex(v: unknown, path: string, bytes?: number): Uint8Array {
  const s = str(v, path);
  if (!/^(?:[0-9a-f]{2})*$/.test(s) || (bytes !== undefined && s.length !== 2 * bytes)) {
    throw new MalformedInputError(`expected ${bytes !== undefined ? `${bytes}-byte ` : ''}lowercase hex`, { path });
  }
  const out = new Uint8Array(s.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(s.slice(2 * k, 2 * k + 2), 16);
  return out;
}
