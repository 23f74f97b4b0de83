/**
 * Strict UTF-8 for the JSON and CBOR readers (spec/strict-encodings.md §UTF-8): no overlong forms, no surrogates, nothing
 * above U+10FFFF, no truncated sequences; a byte order mark is kept as U+FEFF (each format decides about it).
 * RFC 3629 https://www.rfc-editor.org/rfc/rfc3629
 */
import { MalformedInputError } from '../errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Offset of the first byte that breaks strict UTF-8 (only computed on the error path). */
export function utf8ErrorOffset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    // Second-byte ranges exclude overlong forms, surrogates and code points above U+10FFFF.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return i;
}

/** Strict UTF-8 decoding (byte order marks kept as U+FEFF); MalformedInputError at the first bad byte. */
export function decodeUtf8Strict(b: Uint8Array, what: string, base = 0): string {
  try {
    return decoder.decode(b);
  } catch {
    throw new MalformedInputError(`${what}: not valid UTF-8`, { offset: base + utf8ErrorOffset(b) });
  }
}

/** Strict UTF-8 of b[from, to) with a fast path for short ASCII runs; undefined when invalid. */
export function tryUtf8Slice(b: Uint8Array, from: number, to: number): string | undefined {
  if (to - from <= 32) {
    let ascii = true;
    for (let i = from; i < to; i++) if (b[i]! >= 0x80) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, b.subarray(from, to) as unknown as number[]);
  }
  try {
    return decoder.decode(b.subarray(from, to));
  } catch {
    return undefined;
  }
}
