// safetensors header validation: valid files built from the format description, hostile headers, and fuzzing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { MAX_HEADER_SIZE, parseSafetensorsHeader, validateSafetensorsHeader } from '../src/node/safetensors.js';

/** A safetensors file: u64 LE length, the header bytes space-padded to a multiple of 8, then `data` bytes. */
function file(header: string | Uint8Array, data: number, opts: { n?: bigint; pad?: boolean } = {}): Uint8Array {
  let h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  if (opts.pad !== false && h.length % 8) h = Uint8Array.from([...h, ...new Array(8 - (h.length % 8)).fill(0x20)]);
  const out = new Uint8Array(8 + h.length + data);
  new DataView(out.buffer).setBigUint64(0, opts.n ?? BigInt(h.length), true);
  out.set(h, 8);
  for (let i = 0; i < data; i++) out[8 + h.length + i] = i & 0xff;
  return out;
}
const T = (dtype: string, shape: number[], b: number, e: number) => ({ dtype, shape, data_offsets: [b, e] });
const J = (o: unknown) => JSON.stringify(o);

const dir = mkdtempSync(join(tmpdir(), 'aicert-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('valid files', () => {
  test('one F32 tensor [1,2,3] = 24 bytes (the format README example layout)', () => {
    const h = parseSafetensorsHeader(file(J({ 'attn.0': T('F32', [1, 2, 3], 0, 24) }), 24));
    expect(h.tensors).toEqual([{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], begin: 0, end: 24 }]);
    expect(h.headerSize % 8).toBe(0);
    expect(h.dataOffset).toBe(8 + h.headerSize);
    expect(h.dataSize).toBe(24);
    expect(h.metadata).toBeUndefined();
  });

  test('empty model, metadata, zero-size and sub-byte tensors, any key order, unpadded header', () => {
    expect(parseSafetensorsHeader(file('{}', 0)).tensors).toEqual([]);
    const hdr = {
      b: T('BF16', [2, 2], 8, 16),
      __metadata__: { format: 'pt', __proto__x: 'y' },
      a: T('I64', [1], 0, 8),
      empty: T('F16', [0, 5], 16, 16),
      q: T('F4', [4], 16, 18),
      s: T('BOOL', [], 18, 19),
    };
    const h = parseSafetensorsHeader(file(J(hdr), 19, { pad: false }));
    expect(h.tensors.map((t) => t.name)).toEqual(['a', 'b', 'empty', 'q', 's']);
    expect(h.metadata).toEqual({ format: 'pt', __proto__x: 'y' });
  });

  test('from disk: reads only the header, data buffer size comes from the file size', async () => {
    const p = join(dir, 'm.safetensors');
    writeFileSync(p, file(J({ w: T('U8', [1000], 0, 1000) }), 1000));
    expect((await validateSafetensorsHeader(p)).tensors[0]!.end).toBe(1000);
  });
});

/** Expects a MalformedInputError whose message matches `re`. */
function bad(bytes: Uint8Array, re: RegExp, fileSize?: number): MalformedInputError {
  try {
    parseSafetensorsHeader(bytes, fileSize);
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedInputError);
    expect((e as Error).message).toMatch(re);
    return e as MalformedInputError;
  }
  throw new Error('accepted a hostile header');
}

describe('hostile headers', () => {
  test('overlap, hole, trailing hole, out of range, end < begin', () => {
    bad(file(J({ a: T('U8', [8], 0, 8), b: T('U8', [8], 4, 12) }), 12), /overlaps/);
    bad(file(J({ a: T('U8', [4], 0, 4), b: T('U8', [4], 8, 12) }), 12), /hole/);
    bad(file(J({ a: T('U8', [4], 0, 4) }), 12), /hole.*4\.\.12/);
    bad(file(J({ a: T('U8', [16], 0, 16) }), 12), /outside the 12-byte data buffer/);
    bad(file(J({ a: T('U8', [0], 4, 0) }), 4), /outside/);
    // two tensors aliasing the same bytes (the polyglot trick)
    bad(file(J({ a: T('U8', [4], 0, 4), b: T('U8', [4], 0, 4) }), 4), /overlaps/);
  });

  test('N too big, N past the end, file shorter than 8 bytes', () => {
    const e = bad(file('{}', 0, { n: BigInt(MAX_HEADER_SIZE) + 1n }), /exceeds 100000000/);
    expect(e.offset).toBe(0);
    bad(file('{}', 0, { n: 2n ** 64n - 1n }), /exceeds/);
    bad(file('{}', 0, { n: 1000n }), /past the end/);
    bad(new Uint8Array(5), /shorter than the 8-byte/);
  });

  test('duplicate keys at the top level and inside a tensor (JSON.parse would merge them)', () => {
    const dupTop = `{"a":${J(T('U8', [4], 0, 4))},"a":${J(T('U8', [4], 0, 4))}}`;
    expect(Object.keys(JSON.parse(dupTop))).toEqual(['a']); // what a naive validator sees
    const e = bad(file(dupTop, 4), /duplicate key "a"/);
    expect(e.offset).toBe(8 + dupTop.lastIndexOf('"a"'));
    bad(file('{"a":{"dtype":"U8","dtype":"U8","shape":[4],"data_offsets":[0,4]}}', 4), /duplicate key "dtype"/);
    bad(file('{"__metadata__":{"k":"1","k":"2"}}', 0), /duplicate key "k"/);
    // the same key spelled with an escape is still a duplicate
    bad(file(`{"a":${J(T('U8', [2], 0, 2))},"\\u0061":${J(T('U8', [2], 2, 4))}}`, 4), /duplicate key "a"/);
  });

  test('bad UTF-8, no leading brace, trailing garbage, not an object', () => {
    const u = new TextEncoder().encode('{"a\xff":1}');
    const raw = Uint8Array.from([...u.subarray(0, 3), 0xff, 0xfe, ...u.subarray(3)]);
    bad(file(raw, 0), /not valid UTF-8/);
    bad(file(Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{}')]), 0), /does not start with/);
    bad(file(' {}', 0), /does not start with/);
    bad(file('{}x', 0, { pad: false }), /trailing data/);
    bad(file('{}\0\0', 0, { pad: false }), /trailing data/);
    bad(file('{"a":1}', 0), /tensor entry must be an object/);
    bad(file('{"a":', 0, { pad: false }), /invalid JSON|unterminated/);
  });

  test('dtype, shape and offsets semantics', () => {
    bad(file(J({ a: T('F32', [2, 2], 0, 8) }), 8), /is 16 bytes, data_offsets span 8/);
    bad(file(J({ a: T('F4', [3], 0, 2) }), 2), /1\+ bytes/);
    bad(file(J({ a: T('Q8', [1], 0, 1) }), 1), /unknown or missing dtype/);
    bad(file(J({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1], extra: 1 } }), 1), /unknown field "extra"/);
    bad(file(J({ a: { dtype: 'U8', shape: [1] } }), 1), /data_offsets must be/);
    bad(file('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', 1), /non-negative integer/);
    bad(file('{"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', 1), /non-negative integer/);
    bad(file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1e0]}}', 1), /non-negative integer/);
    bad(file(J({ a: T('U8', [1], 0, 1), __metadata__: { k: 1 } }), 1), /values must be strings/);
    // shape product overflow is computed exactly (bigint), not wrapped
    bad(file(`{"a":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,1]}}`, 1), /span 1/);
  });

  test('deep nesting is bounded', () => {
    bad(file(`{"__metadata__":${'['.repeat(5000)}`, 0, { pad: false }), /nesting deeper/);
  });
});

describe('fuzzing: only MalformedInputError, never a hang or another error', () => {
  const onlyTyped = (b: Uint8Array, size?: number) => {
    try {
      parseSafetensorsHeader(b, size);
    } catch (e) {
      if (!(e instanceof MalformedInputError)) throw e;
    }
  };
  test('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyTyped(b)), { numRuns: 3000 });
  });
  test('random bytes behind a plausible length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(400), (b, d) => onlyTyped(file(b, d, { pad: false }))), { numRuns: 3000 });
  });
  test('mutations of a valid file', () => {
    const base = file(J({ __metadata__: { f: 'pt' }, a: T('F16', [2, 3], 0, 12), b: T('U8', [4], 12, 16) }), 16);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (muts) => {
        const m = Uint8Array.from(base);
        for (const [i, v] of muts) m[i] = v;
        onlyTyped(m);
      }),
      { numRuns: 3000 },
    );
  });
  test('random JSON-ish headers', () => {
    const arb = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
    fc.assert(fc.property(arb, fc.nat(64), (o, d) => onlyTyped(file(J(o), d))), { numRuns: 2000 });
  });
});
