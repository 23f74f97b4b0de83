// fast-check: random and mutated bytes into every TPM parser raise only MalformedInputError, never hang.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import {
  loadAkPublic,
  parseAttest,
  parseSignature,
  parseTpm2bPublic,
  parseTpm2ToolsPcrFile,
  parseTpmtPublic,
  splitConcatenatedPcrs,
} from '../src/tpm/index.js';

const VEC = join(import.meta.dirname, '..', 'testvectors', 'quote');
const read = (p: string): Uint8Array => new Uint8Array(readFileSync(join(VEC, p)));

/** Runs fn and requires that it either returns or throws MalformedInputError. */
function onlyTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof MalformedInputError)) throw e;
  }
}

const PARSERS: Record<string, (b: Uint8Array) => unknown> = {
  parseAttest,
  parseSignature,
  parseTpmtPublic,
  parseTpm2bPublic,
  parseTpm2ToolsPcrFile,
  loadAkPublic: (b) => loadAkPublic(b),
  splitConcatenatedPcrs: (b) => splitConcatenatedPcrs(b, [{ hashAlg: 0x0b, pcrs: [0, 1, 2] }]),
};

describe('random bytes', () => {
  for (const [name, fn] of Object.entries(PARSERS)) {
    test(name, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => onlyTyped(() => fn(b))), { numRuns: 2000 });
    });
  }
});

/** Byte-level mutations of a valid structure: flips, truncations, insertions, size-field bumps. */
const mutation = (base: Uint8Array) =>
  fc.oneof(
    fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = base.slice();
      b[i]! ^= x;
      return b;
    }),
    fc.nat(base.length).map((n) => base.slice(0, n)),
    fc.tuple(fc.nat(base.length), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([i, ins]) => {
      const b = new Uint8Array(base.length + ins.length);
      b.set(base.subarray(0, i));
      b.set(ins, i);
      b.set(base.subarray(i), i + ins.length);
      return b;
    }),
    fc.tuple(fc.nat(base.length - 2)).map(([i]) => {
      const b = base.slice();
      b[i] = 0xff;
      b[i + 1] = 0xff;
      return b;
    }),
  );

const haveVectors = existsSync(join(VEC, 'ak-rsa', 'quote.msg'));
describe.skipIf(!haveVectors)('mutated real structures (testvectors/quote)', () => {
  const cases: [string, (b: Uint8Array) => unknown, string][] = [
    ['TPMS_ATTEST', parseAttest, 'ak-rsa/quote.msg'],
    ['TPMT_SIGNATURE rsa', parseSignature, 'ak-rsa/quote.sig'],
    ['TPMT_SIGNATURE ecc', parseSignature, 'ak-ecc/quote.sig'],
    ['TPM2B_PUBLIC rsa', parseTpm2bPublic, 'ak-rsa/ak.pub'],
    ['TPM2B_PUBLIC ecc', parseTpm2bPublic, 'ak-ecc/ak.pub'],
    ['PCR file', parseTpm2ToolsPcrFile, 'ak-rsa/quote.pcrs'],
    ['AK any form', (b) => loadAkPublic(b), 'ak-ecc/ak.pem'],
  ];
  for (const [name, fn, file] of cases) {
    test(name, () => {
      const base = read(file);
      expect(() => fn(base)).not.toThrow();
      fc.assert(fc.property(mutation(base), (b) => onlyTyped(() => fn(b))), { numRuns: 3000 });
    });
  }
});

test('a declared huge TPM2B size fails fast without allocating', () => {
  // TPM2B_PUBLIC claiming 0xffff bytes with 4 present; a qualifiedSigner claiming 64 bytes with none present.
  expect(() => parseTpm2bPublic(new Uint8Array([0xff, 0xff, 0, 1, 0, 0x0b]))).toThrow(MalformedInputError);
  const e = (() => {
    try {
      parseAttest(new Uint8Array([0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x40]));
    } catch (x) {
      return x as MalformedInputError;
    }
  })();
  expect(e).toBeInstanceOf(MalformedInputError);
  // The offset points at the first missing byte, right after the size field.
  expect(e!.offset).toBe(8);
});
