/**
 * PE parser robustness: built PE32/PE32+ images hash as pesign says; malformed headers, overlapping sections and a
 * misplaced certificate table are rejected; random and mutated bytes yield only MalformedInputError, never a hang.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { authenticodeHash, parsePe, sectionData } from '../src/eventlog/pe.js';
import { toHex } from '../src/util/bytes.js';
import { buildPe, filler } from './helpers/pe-build.js';
import { hasTool, pesignHash, peSamples } from './helpers/pe-samples.js';

const tmp = mkdtempSync(join(tmpdir(), 'aicert-pe-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const base = () =>
  buildPe({ sections: [{ name: '.text', data: filler(1000, 3) }, { name: '.data', data: filler(300, 4), virtualSize: 4096 }] });
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const malformed = (b: Uint8Array) => expect(() => authenticodeHash(b)).toThrow(MalformedInputError);

describe.skipIf(!hasTool('pesign'))('built images agree with pesign', () => {
  const cases: [string, Parameters<typeof buildPe>[0]][] = [
    ['PE32+', { sections: [{ name: '.text', data: filler(1000) }, { name: '.data', data: filler(10, 2) }] }],
    ['PE32', { pe32plus: false, sections: [{ name: '.text', data: filler(777) }] }],
    ['PE32+ with trailing data', { sections: [{ name: '.text', data: filler(512) }], trailing: filler(33, 9) }],
  ];
  it.each(cases)('%s', (name, opts) => {
    const b = buildPe(opts).bytes;
    const f = join(tmp, `${name.replace(/\W+/g, '_')}.efi`);
    writeFileSync(f, b);
    expect(toHex(authenticodeHash(b))).toBe(pesignHash(f));
  });
});

describe.skipIf(!hasTool('pesign'))('NumberOfRvaAndSizes <= 4: no Certificate Table entry to skip', () => {
  it('hashes the headers whole after CheckSum, as EDK2 Tcg2MeasurePeImage does (pesign differs)', () => {
    const b = buildPe({ dirs: 4, sections: [{ name: '.text', data: filler(600) }] });
    const ck = b.optOffset + 64;
    // EDK2: header bytes except CheckSum, then the section data (node:crypto, independent of the code under test)
    const edk2 = createHash('sha256').update(b.bytes.subarray(0, ck)).update(b.bytes.subarray(ck + 4)).digest('hex');
    expect(toHex(authenticodeHash(b.bytes))).toBe(edk2);
    // pesign always skips 8 bytes where entry 4 would be (here: inside the section table)
    const nominal = b.optOffset + 112 + 32;
    const pesignRule = createHash('sha256')
      .update(b.bytes.subarray(0, ck)).update(b.bytes.subarray(ck + 4, nominal)).update(b.bytes.subarray(nominal + 8))
      .digest('hex');
    const f = join(tmp, 'dirs4.efi');
    writeFileSync(f, b.bytes);
    expect(pesignHash(f)).toBe(pesignRule);
    expect(edk2).not.toBe(pesignRule);
  });
});

describe('malformed images are MalformedInputError', () => {
  it('rejects bad signatures, magic and sizes', () => {
    const b = base();
    malformed(new Uint8Array(10));
    const noMz = b.bytes.slice();
    noMz[0] = 0;
    malformed(noMz);
    const badLfanew = b.bytes.slice();
    dv(badLfanew).setUint32(0x3c, b.bytes.length, true);
    malformed(badLfanew);
    const noPe = b.bytes.slice();
    noPe[b.peOffset] = 0x4e;
    malformed(noPe);
    const magic = b.bytes.slice();
    dv(magic).setUint16(b.optOffset, 0x107, true);
    malformed(magic);
    const manySections = b.bytes.slice();
    dv(manySections).setUint16(b.peOffset + 6, 97, true);
    malformed(manySections);
    const dirs = b.bytes.slice();
    dv(dirs).setUint32(b.optOffset + 108, 17, true);
    malformed(dirs);
    const headers = b.bytes.slice();
    dv(headers).setUint32(b.optOffset + 60, b.bytes.length + 1, true);
    malformed(headers);
    malformed(b.bytes.subarray(0, b.bytes.length - 1)); // last section past the end of the file
  });

  it('rejects overlapping sections and sections inside the headers', () => {
    const b = base();
    const overlap = b.bytes.slice();
    dv(overlap).setUint32(b.sectionTable + 40 + 20, b.rawOffsets[0]! + 0x100, true);
    malformed(overlap);
    const inHeaders = b.bytes.slice();
    dv(inHeaders).setUint32(b.sectionTable + 20, 0x100, true);
    malformed(inHeaders);
  });

  it('rejects a certificate table that is not the last bytes of the file, accepts it at the end', () => {
    const signed = buildPe({ sections: [{ name: '.text', data: filler(700) }], certificate: filler(100, 7) });
    expect(authenticodeHash(signed.bytes)).toHaveLength(32);
    const entry = signed.optOffset + 112 + 32;
    const early = signed.bytes.slice();
    dv(early).setUint32(entry, signed.rawOffsets[0]!, true); // points into section data
    malformed(early);
    const short = signed.bytes.slice();
    dv(short).setUint32(entry + 4, dv(short).getUint32(entry + 4, true) - 8, true);
    malformed(short);
  });

  it('refuses a VirtualSize implausibly larger than the raw data', () => {
    const b = buildPe({ sections: [{ name: '.bss', data: filler(16), virtualSize: 0xffffffff }] });
    const img = parsePe(b.bytes);
    expect(() => sectionData(img, img.sections[0]!)).toThrow(MalformedInputError);
  });
});

/** Runs the parser and reports anything other than a result or a MalformedInputError. */
function onlyTyped(b: Uint8Array): void {
  try {
    const img = parsePe(b);
    expect(authenticodeHash(img)).toHaveLength(32);
    for (const s of img.sections) {
      try {
        sectionData(img, s);
      } catch (e) {
        if (!(e instanceof MalformedInputError)) throw e;
      }
    }
  } catch (e) {
    if (!(e instanceof MalformedInputError)) throw e;
  }
}

describe('fuzzing', () => {
  const seeds = [base().bytes, buildPe({ pe32plus: false, sections: [{ name: '.t', data: filler(64) }], certificate: filler(40) }).bytes];
  const stub = peSamples().find((p) => p.endsWith('linuxx64.efi.stub'));
  if (stub) seeds.push(new Uint8Array(readFileSync(stub)));

  it('random bytes (with an MZ/PE prefix half the time) -> only MalformedInputError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (b, prefix) => {
        if (prefix && b.length > 0x48) {
          b.set([0x4d, 0x5a]);
          dv(b).setUint32(0x3c, 0x40, true);
          b.set([0x50, 0x45, 0, 0], 0x40);
        }
        onlyTyped(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated real and built images (header bytes, u32 fields, truncation) -> only MalformedInputError', () => {
    const mutation = fc.record({
      seed: fc.nat({ max: seeds.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat({ max: 1023 }), fc.nat({ max: 0xffffffff }), fc.boolean()), { minLength: 1, maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(mutation, ({ seed, edits, cut }) => {
        const src = seeds[seed]!;
        const b = src.slice(0, cut === undefined ? src.length : cut % (src.length + 1));
        for (const [at, v, word] of edits) {
          if (word && at + 4 <= b.length) dv(b).setUint32(at, v, true);
          else if (at < b.length) b[at] = v & 0xff;
        }
        onlyTyped(b);
      }),
      { numRuns: 1500 },
    );
  });
});
