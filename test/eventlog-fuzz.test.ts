/**
 * Fuzzing (fast-check): random bytes, mutated real logs and mutated crafted logs must parse, replay and verify
 * or fail with MalformedInputError / VerificationError only — never another error, never a hang.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedInputError, VerificationError } from '../src/errors.js';
import { replay } from '../src/eventlog/replay.js';
import { parseTcgLog, TCG_EV } from '../src/eventlog/tcg.js';
import { verifyLog } from '../src/eventlog/verify.js';
import { buildAgileLog } from './eventlog-tcg-oracle.js';
import { vectorsDir } from './helpers/vectors.js';

/** Parses, replays and verifies; returns normally or throws only typed errors. */
function exercise(b: Uint8Array): void {
  try {
    const log = parseTcgLog(b);
    const rep = replay(log);
    JSON.stringify(log.events.map((e) => e.decoded));
    verifyLog(log, rep, { allowMissingBanks: true });
  } catch (e) {
    if (!(e instanceof MalformedInputError || e instanceof VerificationError)) throw e;
  }
}

const dir = vectorsDir();
const seeds: Uint8Array[] = [
  buildAgileLog([
    { pcr: 0, type: TCG_EV.EV_NO_ACTION, data: new Uint8Array([...new TextEncoder().encode('StartupLocality\0'), 3]) },
    { pcr: 4, type: TCG_EV.EV_EFI_BOOT_SERVICES_APPLICATION, data: new Uint8Array(40) },
    { pcr: 7, type: TCG_EV.EV_SEPARATOR, data: new Uint8Array(4) },
  ]),
];
if (dir) {
  for (const f of ['tpm2-tools/event-bootorder.bin', 'go-tpm-tools/debian-10.bin', 'tpm2-tools/event-sd-boot-fedora37.bin', 'go-eventlog/CCEL_unpadded.data.bin']) {
    seeds.push(new Uint8Array(readFileSync(join(dir, f))));
  }
}

/** A seed with byte overwrites, a truncation and/or an insertion. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
    fc.option(fc.nat()),
    fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 16 }))),
  )
  .map(([seed, writes, cut, ins]) => {
    let b = seed.slice();
    for (const [at, v] of writes) b[at % b.length] = v;
    if (ins) {
      const at = ins[0] % (b.length + 1);
      b = new Uint8Array([...b.subarray(0, at), ...ins[1], ...b.subarray(at)]);
    }
    if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
    return b;
  });

describe('fuzz: only typed errors', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => exercise(b)), { numRuns: 3000 });
  });

  it('mutated real and crafted logs', () => {
    fc.assert(fc.property(mutated, (b) => exercise(b)), { numRuns: 1500 });
  });

  it('SpecID-prefixed random tails', () => {
    const head = buildAgileLog([]);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => exercise(new Uint8Array([...head, ...tail]))), { numRuns: 3000 });
  });

  it('long runs of zero bytes before non-padding data parse in linear time', () => {
    const legacy = new Uint8Array(1 << 20);
    legacy[legacy.length - 1] = 1;
    const agile = new Uint8Array([...buildAgileLog([]), ...legacy]);
    for (const b of [legacy, agile]) {
      const t = performance.now();
      expect(() => parseTcgLog(b)).toThrow(MalformedInputError);
      // Hang guard only (quadratic work on 1 MiB would take minutes); speed belongs in bench/.
      expect(performance.now() - t).toBeLessThan(15_000);
    }
  });

  it('a declared 3 GB event fails fast in both log forms', () => {
    const legacy = new Uint8Array(32 + 8);
    new DataView(legacy.buffer).setUint32(4, TCG_EV.EV_EFI_ACTION, true);
    new DataView(legacy.buffer).setUint32(28, 0xc0000000, true);
    const agile = buildAgileLog([{ pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: new Uint8Array(8), eventSize: 0xc0000000 }]);
    for (const b of [legacy, agile]) {
      // No allocation of the declared size: ArrayBuffer memory stays flat (a 3 GB buffer would show until GC).
      const before = process.memoryUsage().arrayBuffers;
      expect(() => parseTcgLog(b)).toThrow(MalformedInputError);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
    }
  });
});
