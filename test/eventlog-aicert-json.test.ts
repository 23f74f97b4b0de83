/**
 * The aicert JSON event list. aicert-events.json and its expected digests come from gen-aicert.py, which serializes
 * and hashes events as the original (Python) server did; the PCR is folded here again with node:crypto.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MalformedInputError } from '../src/errors.js';
import { parseAicertJson, type AicertJsonDecoded } from '../src/eventlog/aicert-json.js';
import { TPM_ALG } from '../src/util/hash.js';

const F = join(import.meta.dirname, 'fixtures/eventlog');
const bytes = new Uint8Array(readFileSync(join(F, 'aicert-events.json')));
const exp = JSON.parse(readFileSync(join(F, 'aicert-expected.json'), 'utf8')) as { pcr: number; digests: string[]; final: string; strings: string[] };
const enc = (s: string) => new TextEncoder().encode(s);

describe('aicert JSON event list', () => {
  it('hashes each stored string verbatim (escapes, non-ASCII, surrogate pairs) and replays to the Python value', () => {
    const log = parseAicertJson(bytes, { pcr: 14 });
    expect(log.format).toBe('aicert-json');
    expect(log.banks).toEqual([TPM_ALG.SHA256]);
    expect(log.events.map((e) => Buffer.from(e.digests[0]!.digest).toString('hex'))).toEqual(exp.digests);
    expect(log.events.every((e) => e.pcr === 14)).toBe(true);
    let pcr = Buffer.alloc(32);
    for (const e of log.events) pcr = createHash('sha256').update(pcr).update(e.digests[0]!.digest).digest();
    expect(pcr.toString('hex')).toBe(exp.final);
    // The first string keeps "\u00e9" as six characters: re-serializing its JSON would change the hash.
    const d0 = log.events[0]!.decoded as AicertJsonDecoded;
    expect(d0.string).toBe(exp.strings[0]);
    expect(d0.eventType).toBe('start_build');
    expect(createHash('sha256').update(JSON.stringify(d0.json)).digest('hex')).not.toBe(exp.digests[0]);
    expect((log.events[3]!.decoded as AicertJsonDecoded).json).toBeUndefined();
  });

  it('accepts an already-parsed string array with the same result', () => {
    const log = parseAicertJson(exp.strings, { pcr: 8 });
    expect(log.events.map((e) => Buffer.from(e.digests[0]!.digest).toString('hex'))).toEqual(exp.digests);
    expect(log.events[0]!.pcr).toBe(8);
  });

  it('rejects non-string elements with path [i], lone surrogates, non-arrays, bad JSON and bad UTF-8', () => {
    const err = (() => {
      try {
        parseAicertJson(enc('["a", 1]'), { pcr: 14 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MalformedInputError);
    expect((err as MalformedInputError).path).toBe('[1]');
    expect(() => parseAicertJson(['a', null as unknown as string], { pcr: 14 })).toThrow(/\[1\]/);
    expect(() => parseAicertJson(enc('["\\ud800"]'), { pcr: 14 })).toThrow(/surrogate/);
    expect(() => parseAicertJson(enc('{"a": "b"}'), { pcr: 14 })).toThrow(MalformedInputError);
    expect(() => parseAicertJson(enc('["a"'), { pcr: 14 })).toThrow(MalformedInputError);
    expect(() => parseAicertJson(enc('[["a"]]'), { pcr: 14 })).toThrow(MalformedInputError);
    expect(() => parseAicertJson(new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]), { pcr: 14 })).toThrow(/UTF-8/);
  });

  it('rejects wrong argument types with TypeError', () => {
    expect(() => parseAicertJson(bytes, { pcr: 24 })).toThrow(TypeError);
    expect(() => parseAicertJson(bytes, {} as { pcr: number })).toThrow(TypeError);
    expect(() => parseAicertJson('["a"]' as unknown as string[], { pcr: 1 })).toThrow(TypeError);
  });

  it('fuzz: random and mutated bytes give an EventLog or MalformedInputError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }).map((m) => {
        const b = bytes.slice();
        for (const [i, v] of m) b[i % b.length] = v;
        return b;
      })), (b) => {
        try {
          parseAicertJson(b, { pcr: 14 });
        } catch (e) {
          if (!(e instanceof MalformedInputError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
