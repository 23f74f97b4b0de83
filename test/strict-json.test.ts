// The strict JSON reader (src/aibom/json.ts) after its string scan was made faster: keys are compared by value
// (escaped and plain spellings of one key are duplicates), strings keep every grammar rule, JSON.parse agrees.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { parseStrictJson } from '../src/aibom/json.js';
import { readJson } from '../src/util/json.js';

const bad = (text: string) => expect(() => parseStrictJson(text, 'doc'), text).toThrow(MalformedInputError);

describe('strict JSON strings', () => {
  test('a key spelled with escapes is the same key', () => {
    bad('{"a":1,"\\u0061":2}');
    bad('{"a\\"b":1,"a\\u0022b":2}');
    bad('{"\\/":1,"/":2}');
    expect(parseStrictJson('{"a":1,"\\u0062":2}', 'doc')).toEqual({ a: 1, b: 2 });
  });

  test('string grammar: control characters, bad escapes, unterminated', () => {
    bad('{"a":"x\ny"}');
    bad('"\u0001"');
    bad('"\\x41"');
    bad('"\\u12G4"');
    bad('"abc');
    bad('"abc\\');
    bad('{"abc');
    expect(parseStrictJson('"tab\\t quote\\" slash\\\\ \\u00e9 é 😀"', 'doc')).toBe('tab\t quote" slash\\ é é 😀');
  });

  test('agrees with JSON.parse on generated documents', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const text = JSON.stringify(v);
        expect(parseStrictJson(text, 'doc')).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe('size bound of text input', () => {
  test('a text is bounded by its UTF-8 bytes, as the same document given as bytes is', () => {
    const text = `"${'é'.repeat(60)}"`; // 62 characters, 122 UTF-8 bytes
    const bytes = new TextEncoder().encode(text);
    expect(bytes.length).toBe(122);
    expect(() => readJson(bytes, 'doc', { maxBytes: 100 })).toThrow(/larger than 100 bytes/);
    expect(() => readJson(text, 'doc', { maxBytes: 100 })).toThrow(/larger than 100 bytes/);
    expect(readJson(text, 'doc', { maxBytes: 122 })).toBe('é'.repeat(60));
  });
});
