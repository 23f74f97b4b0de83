/**
 * Hostile input: random and mutated certificates reach verifyAkChain / parseCertificates and must only ever
 * produce typed errors (never a pass for a mutated chain, never another exception, never a hang).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MalformedInputError, VerificationError } from '../src/errors.js';
import { parseCertificates, verifyAkChain } from '../src/tpm/akcert.js';

const DIR = resolve(import.meta.dirname, '../testvectors/certs');
const der = (n: string): Uint8Array => new Uint8Array(readFileSync(`${DIR}/${n}.der`));
const AT = new Date('2026-06-01T00:00:00Z');
const typed = (e: unknown): boolean => e instanceof MalformedInputError || e instanceof VerificationError;

/** A byte-level mutation: overwrite, insert, delete or truncate. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('ins' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('del' as const), at: fc.nat(), v: fc.constant(0) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), v: fc.constant(0) }),
);
function mutate(b: Uint8Array, ms: { kind: string; at: number; v: number }[]): Uint8Array {
  let out = b.slice();
  for (const m of ms) {
    const i = m.at % Math.max(out.length, 1);
    if (m.kind === 'set') out[i] = out[i]! ^ m.v;
    else if (m.kind === 'ins') out = new Uint8Array([...out.subarray(0, i), m.v, ...out.subarray(i)]);
    else if (m.kind === 'del') out = new Uint8Array([...out.subarray(0, i), ...out.subarray(i + 1)]);
    else out = out.subarray(0, i);
  }
  return out;
}

describe('fuzz', () => {
  test('random bytes -> parseCertificates throws only MalformedInputError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        try {
          parseCertificates(b);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedInputError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  for (const [leaf, int, root] of [['ak-rsa', 'int-rsa', 'root-rsa'], ['ak-ec', 'int-ec', 'root-ec']] as const) {
    test(`mutated ${leaf} chain -> only typed errors, never valid`, async () => {
      const good = [der(leaf), der(int)];
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (which, ms) => {
          const certs = good.map((c, i) => (i === which ? mutate(c, ms) : c));
          if (Buffer.from(certs[which]!).equals(Buffer.from(good[which]!))) return;
          try {
            await verifyAkChain(certs, { trustAnchors: [der(root)], at: AT });
            throw new Error(`mutated chain accepted: ${JSON.stringify(ms)}`);
          } catch (e) {
            if (!typed(e)) throw e;
          }
        }),
        { numRuns: 400 },
      );
    });
  }

  test('hostile DER shapes: deep nesting, indefinite and non-minimal lengths, huge declared length', () => {
    const deep = new Uint8Array(2000);
    for (let i = 0; i < 1000; i++) [deep[2 * i], deep[2 * i + 1]] = [0x30, 0x80];
    const cases = [
      deep,
      new Uint8Array([0x30, 0x80, 0x00, 0x00]),
      new Uint8Array([0x30, 0x81, 0x01, 0x00]),
      new Uint8Array([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]),
      new Uint8Array([0x30, 0x82, 0x00, 0x80, ...new Uint8Array(0x80)]),
      Uint8Array.from({ length: 60 }, (_, i) => (i % 2 ? 2 * (29 - (i >> 1)) : 0x30)),
      Uint8Array.from({ length: 20 }, (_, i) => (i % 2 ? 2 * (9 - (i >> 1)) : 0x30)),
    ];
    for (const c of cases) expect(() => parseCertificates(c)).toThrow(MalformedInputError);
  });
});
