/**
 * canonicalBase64 decodes texts of 4 KiB or more with the runtime's Buffer and accepts them only when re-encoding
 * gives the very same text (spec/strict-encodings.md: canonical base64). Expected bytes are the random input the text
 * was encoded from; every non-canonical variant must still fail with the JavaScript reader's own error.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, test, vi } from 'vitest';
import { canonicalBase64 } from '../src/aibom/index.js';
import { MalformedInputError } from '../src/errors.js';

const errorOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('canonical base64 through the runtime Buffer', () => {
  test('bulk texts decode to the bytes they encode, through Buffer, as plain Uint8Arrays', () => {
    const spy = vi.spyOn(Buffer, 'from');
    try {
      for (const n of [3072, 3073, 3074, 5000, 100_000, 1_000_001]) {
        const bytes = new Uint8Array(randomBytes(n));
        const text = Buffer.from(bytes).toString('base64');
        spy.mockClear();
        const got = canonicalBase64(text, 'x');
        expect(spy, String(n)).toHaveBeenCalledWith(text, 'base64');
        expect(got, String(n)).toEqual(bytes);
        expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
        // Its own memory: no window onto Buffer's shared pool.
        expect(got.buffer.byteLength, String(n)).toBe(n);
      }
    } finally {
      spy.mockRestore();
    }
  });

  test('every non-canonical variant of a bulk text fails with the JavaScript reader error', () => {
    const base = Buffer.from(randomBytes(4001)).toString('base64'); // 4001 bytes: one `=` of padding
    const at = 1234;
    const last = base.length - 2; // the character before `=`, whose low 2 bits are unused
    const setChar = (s: string, i: number, c: string): string => s.slice(0, i) + c + s.slice(i + 1);
    const flip = (c: string): string => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(c) ^ 1]!;
    const variants: Record<string, string> = {
      'unused bits set': setChar(base, last, flip(base[last]!)),
      'URL-safe -': setChar(base, at, '-'),
      'URL-safe _': setChar(base, at, '_'),
      'a newline inside': `${base.slice(0, at)}\n${base.slice(at + 1)}`,
      'a space inside (length kept)': setChar(base, at, ' '),
      'padding in the middle': setChar(base, at, '='),
      'a non-ASCII character': setChar(base, at, 'é'),
      'a character above U+00FF': setChar(base, at, '\u0141'),
      'padding missing': base.slice(0, -1),
      'an extra quad of padding': `${base}====`,
    };
    const canon = canonicalBase64(base, 'x');
    expect(base.endsWith('=') && !base.endsWith('==')).toBe(true);
    expect(canon.length).toBe(4001);
    for (const [why, text] of Object.entries(variants)) {
      if (text === base) continue;
      const e = errorOf(() => canonicalBase64(text, 'statement'));
      expect(e, why).toBeInstanceOf(MalformedInputError);
      expect((e as Error).message, why).toMatch(/base64/);
    }
  });
});
