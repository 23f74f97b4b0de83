// Fuzz: random bytes and one-byte mutations of the real HCL/SNP/TDX evidence, PCR YAML, JWKs and ASCII IMA text
// give a parse result or our typed MalformedInputError, never another exception.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { parseImaAscii } from '../src/eventlog/ima-ascii.js';
import { parseHclReport } from '../src/tpm/hcl.js';
import { materialFromJwk } from '../src/tpm/jwk.js';
import { loadAkPublic } from '../src/tpm/keys.js';
import { parsePcrYaml } from '../src/tpm/pcr-yaml.js';
import { tpmtFromPlainSignature } from '../src/tpm/plain-signature.js';
import { parseSnpReport } from '../src/tpm/snp.js';
import { parseTdQuote } from '../src/tpm/tdx.js';
import { vectorsDir } from './helpers/vectors.js';

const V = vectorsDir();
const only = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof MalformedInputError)) throw e;
  }
};
const mutate = (b: Uint8Array) => fc.tuple(fc.nat(b.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
  const c = b.slice();
  c[i] = c[i]! ^ x;
  return c;
});

describe('confidential-VM parsers under fuzz', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), (b) => {
      only(() => parseHclReport(b));
      only(() => parseSnpReport(b));
      only(() => parseTdQuote(b));
      only(() => parseImaAscii(b));
      only(() => parsePcrYaml(new TextDecoder().decode(b)));
    }), { numRuns: 300 });
  });
  it.skipIf(!V)('mutated real evidence', () => {
    const hcl = new Uint8Array(readFileSync(join(V!, 'trustee/az-snp-vtpm/hcl-report.bin')));
    const tdq = new Uint8Array(readFileSync(join(V!, 'trustee/az-tdx-vtpm/td-quote.bin')));
    fc.assert(fc.property(mutate(hcl), (b) => only(() => parseHclReport(b))), { numRuns: 300 });
    fc.assert(fc.property(mutate(hcl.slice(32, 32 + 1184)), (b) => only(() => parseSnpReport(b))), { numRuns: 300 });
    fc.assert(fc.property(mutate(tdq), (b) => only(() => parseTdQuote(b))), { numRuns: 300 });
  });
  it('JWKs and plain signatures built from arbitrary JSON values', () => {
    const ak = loadAkPublic(JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43) }));
    fc.assert(fc.property(fc.jsonValue(), fc.uint8Array({ maxLength: 200 }), (j, sig) => {
      only(() => materialFromJwk(j));
      only(() => materialFromJwk({ kty: 'RSA', n: j, e: 'AQAB' }));
      only(() => tpmtFromPlainSignature(sig, ak));
    }), { numRuns: 300 });
  });
  it('the PCR YAML reader is linear: 4096 lines parse quickly, more are refused', () => {
    const y = 'sha256:\n' + Array.from({ length: 24 }, (_, i) => `  ${i} : 0x${'ab'.repeat(32)}`).join('\n') + '\n' + '# c\n'.repeat(4000);
    expect(parsePcrYaml(y).get(0x0b)?.size).toBe(24);
    expect(() => parsePcrYaml(y + '# c\n'.repeat(200))).toThrow(MalformedInputError);
  });
});
