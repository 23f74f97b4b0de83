// Encoding differentials (spec/strict-encodings.md): one regression test per spelling that two readers could read
// differently. Documents are built by the small independent CBOR encoder below (not src/util/cbor-write.ts) and go in
// through the public parsers, so each test ran against the code before the one strict reader per encoding.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeCbor, parseAibom, parseStrictJson } from '../src/aibom/index.js';
import { MalformedInputError } from '../src/errors.js';
import { parseCelCbor } from '../src/eventlog/cel-cbor.js';
import { parseCelJson, parseCelJsonSeq } from '../src/eventlog/cel-json.js';

const demo = (f: string) => new Uint8Array(readFileSync(join(__dirname, '..', 'testvectors', 'demo', f)));
const te = new TextEncoder();
const utf8 = (s: string) => te.encode(s);

// RFC 8949 §3 heads, written by hand: major type and shortest argument.
function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
/** Independent encoder for building test documents; map entries are [key, value] pairs so keys may repeat. */
type C = number | string | Uint8Array | boolean | null | C[] | { map: [string | number, C][] };
function cbor(v: C): number[] {
  if (v === null) return [0xf6];
  if (v === true || v === false) return [v ? 0xf5 : 0xf4];
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return [...head(3, utf8(v).length), ...utf8(v)];
  if (v instanceof Uint8Array) return [...head(2, v.length), ...v];
  if (Array.isArray(v)) return [...head(4, v.length), ...v.flatMap(cbor)];
  return [...head(5, v.map.length), ...v.map.flatMap(([k, x]) => [...cbor(k), ...cbor(x)])];
}
/** The JSON data model (JSON.parse output) as C, base64 strings left as text. */
function fromJson(v: unknown): C {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v !== null && typeof v === 'object') return { map: Object.entries(v).map(([k, x]) => [k, fromJson(x)]) };
  return v as C;
}
const b = (a: number[]) => new Uint8Array(a);

function malformed(f: () => unknown, re: RegExp): MalformedInputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedInputError);
    expect((e as Error).message).toMatch(re);
    return e as MalformedInputError;
  }
  throw new Error(`accepted; expected ${re}`);
}

const celRecord = { pcr: 1, digests: [{ hashAlg: 'sha256', digest: '00'.repeat(32) }], content_type: 'systemd', content: { string: 'x' } };
const celCborRecord = (extra: [string | number, C][] = []): C => ({
  map: [[1, 1], [3, [{ map: [[0, 11], [1, new Uint8Array(32)]] }]], [9, 'systemd'], [10, utf8('x')], ...extra],
});

describe('__proto__ keys', () => {
  test('JSON: a duplicate __proto__ is refused; a single one is an own member, never the prototype', () => {
    malformed(() => parseStrictJson('{"__proto__":{"a":1},"__proto__":{"a":2}}', 'doc'), /duplicate key "__proto__"/);
    const o = parseStrictJson('{"__proto__":{"polluted":1}}', 'doc') as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect((o as { polluted?: unknown }).polluted).toBeUndefined();
  });
  test('CBOR: a duplicate __proto__ is refused, __proto__ and __proto_ do not collide, a single one stays an own member', () => {
    malformed(() => decodeCbor(b(cbor({ map: [['__proto__', 1], ['__proto__', 2]] }))), /duplicate map key "__proto__"/);
    expect(Object.keys(decodeCbor(b(cbor({ map: [['__proto__', 1], ['__proto_', 2]] }))) as object)).toEqual(['__proto__', '__proto_']);
    const o = decodeCbor(b(cbor({ map: [['__proto__', { map: [['polluted', 1]] }]] }))) as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect((o as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('CEL duplicate and ambiguous fields', () => {
  test('CEL-JSON: a duplicate key is refused (it used to be last-wins)', () => {
    const text = `[{"pcr":1,"pcr":7,"digests":[{"hashAlg":"sha256","digest":"${'00'.repeat(32)}"}],"content_type":"systemd","content":{"string":"x"}}]`;
    const e = malformed(() => parseCelJson(utf8(text)), /duplicate key "pcr"/);
    expect(e.offset).toBe(text.indexOf('"pcr":7'));
    expect(parseCelJson(utf8(JSON.stringify([celRecord]))).events[0]!.pcr).toBe(1);
  });
  test('CEL JSON-seq: a duplicate key is refused at its offset in the file', () => {
    const rec = '{"pcr":1,"digests":[],"digests":[]}\n';
    const e = malformed(() => parseCelJsonSeq(utf8(`\x1e${JSON.stringify(celRecord)}\n\x1e${rec}`)), /duplicate key "digests"/);
    expect(e.offset).toBe(1 + JSON.stringify(celRecord).length + 2 + rec.indexOf('"digests":[]}'));
  });
  test('CEL-JSON: the CBOR integer key of a field is refused beside or instead of its name', () => {
    malformed(() => parseCelJson(utf8(JSON.stringify([{ ...celRecord, 1: 7 }]))), /ambiguous field/);
    malformed(() => parseCelJson(utf8(JSON.stringify([{ ...celRecord, pcr: undefined, 1: 7 }]))), /ambiguous field/);
  });
  test('CEL-CBOR: a duplicate integer key is refused (cbor-x kept the last)', () => {
    malformed(() => parseCelCbor(b(cbor([celCborRecord([[1, 7]])]))), /duplicate map key "1"/);
    expect(parseCelCbor(b(cbor([celCborRecord()]))).events[0]!.pcr).toBe(1);
  });
  test('CEL-CBOR: integer key 1 with name "pcr", or integer key 1 with text key "1", is refused', () => {
    malformed(() => parseCelCbor(b(cbor([celCborRecord([['pcr', 7]])]))), /ambiguous field/);
    malformed(() => parseCelCbor(b(cbor([celCborRecord([['1', 7]])]))), /reads as an integer key|duplicate/);
  });
});

describe('AIBOM spellings', () => {
  test('two leading byte order marks are refused; one is skipped', () => {
    const json = demo('aibom.json');
    malformed(() => parseAibom(new Uint8Array([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, ...json])), /second byte order mark/);
    expect(parseAibom(new Uint8Array([0xef, 0xbb, 0xbf, ...json])).format).toBe('aibom-v1');
  });
  test('CBOR byte fields given as base64 text are refused; the same document with byte strings parses', () => {
    const doc = JSON.parse(new TextDecoder().decode(demo('aibom.json'))) as { statement: string };
    const e = malformed(() => parseAibom(b(cbor(fromJson(doc)))), /byte field must be a byte string/);
    expect(e.path).toBe('statement');
    expect(parseAibom(demo('aibom.cbor')).format).toBe('aibom-v1');
  });
  test('the original format given as CBOR is refused; as JSON it parses', () => {
    const legacy = JSON.parse(new TextDecoder().decode(demo('attestation.json'))) as unknown;
    malformed(() => parseAibom(b(cbor(fromJson(legacy)))), /JSON only/);
    expect(parseAibom(demo('attestation.json')).format).not.toBe('aibom-v1');
  });
});

describe('CBOR structure', () => {
  test('NaN, infinity and half/single floats are refused; a float64 is read exactly', () => {
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])), /NaN/);
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0xf9, 0x7e, 0x00])), /half-precision/);
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0xfa, 0x7f, 0x80, 0, 0])), /single-precision/);
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0xfb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0])), /infinity/);
    // 0.1 as float64 (RFC 8949 Appendix A: fb 3f b9 99 99 99 99 99 9a).
    expect(decodeCbor(b([0xa1, 0x61, 0x61, 0xfb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]))).toEqual({ a: 0.1 });
  });
  test('indefinite lengths are refused in maps, arrays and strings, at the offset of the head', () => {
    expect(malformed(() => decodeCbor(b([0xbf, 0xff])), /indefinite/).offset).toBe(0);
    expect(malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0x9f, 0xff])), /indefinite/).offset).toBe(3);
    expect(malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0x7f, 0x61, 0x62, 0xff])), /indefinite/).offset).toBe(3);
    malformed(() => parseCelCbor(b([0x81, 0xbf, 0xff])), /indefinite/);
  });
  test('lengths and counts beyond the bytes left are refused before allocation', () => {
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00])), /longer than the remaining input/);
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0x9a, 0x7f, 0xff, 0xff, 0xff])), /more array items than bytes left/);
    malformed(() => decodeCbor(b([0xba, 0x7f, 0xff, 0xff, 0xff, 0x61])), /more map entries than bytes left/);
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0x1b, 0xff, 0, 0, 0, 0, 0, 0, 0])), /beyond 2\^53/);
    malformed(() => parseCelCbor(b([0x81, 0xa1, 0x01, 0x7b, 0x7f, 0, 0, 0, 0, 0, 0, 0])), /beyond 2\^53|longer/);
  });
  test('trailing bytes are refused after the item', () => {
    const ok = demo('aibom.cbor');
    expect(malformed(() => decodeCbor(new Uint8Array([...ok, 0x00])), /trailing data/).offset).toBe(ok.length);
    malformed(() => parseStrictJson('{"a":1} x', 'doc'), /trailing data/);
    malformed(() => parseCelCbor(b([...cbor([celCborRecord()]), 0x00])), /trailing|expected end|bytes? left/i);
  });
  test('deep nesting is refused in both encodings without exhausting the stack', () => {
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, ...new Array(100000).fill(0x81), 0x00])), /nesting deeper than 32/);
    malformed(() => parseStrictJson('['.repeat(100000) + ']'.repeat(100000), 'doc'), /nesting deeper than 32/);
    malformed(() => parseCelJson(utf8('['.repeat(100000) + ']'.repeat(100000))), /nesting deeper than 16/);
  });
  test('tags other than one leading self-describe tag, and undefined, are refused', () => {
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0xc2, 0x41, 0x01])), /tags are not allowed/);
    malformed(() => decodeCbor(b([0xd9, 0xd9, 0xf7, 0xd9, 0xd9, 0xf7, 0xa0])), /tags are not allowed/);
    expect(decodeCbor(b([0xd9, 0xd9, 0xf7, 0xa0]))).toEqual({});
    malformed(() => decodeCbor(b([0xa1, 0x61, 0x61, 0xf7])), /undefined/);
  });
});

describe('JSON strings and numbers', () => {
  test('a lone surrogate escape is refused (other readers substitute U+FFFD or fail)', () => {
    malformed(() => parseStrictJson('{"a":"\\ud800"}', 'doc'), /lone surrogate/);
    malformed(() => parseStrictJson('{"a":"\\udc00\\ud800"}', 'doc'), /lone surrogate/);
    // A text argument can hold an unescaped lone surrogate, which has no UTF-8 form.
    malformed(() => parseStrictJson('{"a":"x\ud800"}', 'doc'), /lone surrogate/);
    expect(parseStrictJson('{"a":"\\ud83d\\ude00"}', 'doc')).toEqual({ a: '😀' });
  });
  test('an invalid UTF-8 byte is reported at its offset', () => {
    expect(malformed(() => parseStrictJson(b([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]), 'doc'), /UTF-8/).offset).toBe(6);
    expect(malformed(() => parseCelJson(b([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d])), /UTF-8/).offset).toBe(2);
  });
  test('CEL-JSON numbers that are not exactly their double are refused (JSON.parse rounded them)', () => {
    malformed(() => parseCelJson(utf8(JSON.stringify([celRecord]).replace('"pcr":1', '"pcr":1.00000000000000001'))), /not exactly the double/);
  });
});
