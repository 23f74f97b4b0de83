/**
 * Attack-class regression tests (tpm-verifiers.md §8, replay rows). Hostile logs are built byte by byte or mutated
 * from real vectors; expected PCR values come from node:crypto (test/eventlog-tcg-oracle.ts), never from replay().
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedInputError, VerificationError } from '../src/errors.js';
import { parseTcgLog, TCG_EV } from '../src/eventlog/tcg.js';
import { replay } from '../src/eventlog/replay.js';
import { verifyLog } from '../src/eventlog/verify.js';
import { toHex } from '../src/util/bytes.js';
import { asPcrBanks, buildAgileLog, h, oracleReplay } from './eventlog-tcg-oracle.js';
import { vectorsDir } from './helpers/vectors.js';

const SHA1 = 0x04;
const SHA256 = 0x0b;
const te = new TextEncoder();
const sep = new Uint8Array(4);
const locality = (n: number) => new Uint8Array([...te.encode('StartupLocality\0'), n]);

/** Runs fn and returns the VerificationError code it throws. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof VerificationError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

describe('EV_NO_ACTION is never extended', () => {
  it('an EV_NO_ACTION event with a non-zero digest in PCR 0 does not change PCR 0', () => {
    const bytes = buildAgileLog([
      { pcr: 0, type: TCG_EV.EV_NO_ACTION, data: te.encode('not extended') },
      { pcr: 0, type: TCG_EV.EV_S_CRTM_VERSION, data: te.encode('v1') },
    ]);
    const want = h(SHA256, Buffer.alloc(32), h(SHA256, te.encode('v1'))).toString('hex');
    expect(toHex(replay(parseTcgLog(bytes)).get(SHA256)!.get(0)!)).toBe(want);
    // A verifier that extended it would compute this instead: the quote built from it must not verify.
    const extended = h(SHA256, h(SHA256, Buffer.alloc(32), h(SHA256, te.encode('not extended'))), h(SHA256, te.encode('v1')));
    const quoted = new Map([[SHA256, new Map([[0, new Uint8Array(extended)]])]]);
    expect(codeOf(() => verifyLog(parseTcgLog(bytes), quoted, { allowMissingBanks: true }))).toBe('PCR_REPLAY_MISMATCH');
  });
});

describe('PCR 0 start value: StartupLocality and H-CRTM', () => {
  it('StartupLocality 3 starts PCR 0 at 00..03', () => {
    const bytes = buildAgileLog([
      { pcr: 0, type: TCG_EV.EV_NO_ACTION, data: locality(3) },
      { pcr: 0, type: TCG_EV.EV_S_CRTM_VERSION, data: te.encode('v1') },
    ]);
    const start = Buffer.alloc(20);
    start[19] = 3;
    const log = parseTcgLog(bytes);
    expect(log.startupLocality).toBe(3);
    expect(toHex(replay(log).get(SHA1)!.get(0)!)).toBe(h(SHA1, start, h(SHA1, te.encode('v1'))).toString('hex'));
  });

  it('an H-CRTM event starts PCR 0 at 00..04, even with StartupLocality present', () => {
    const bytes = buildAgileLog([
      { pcr: 0, type: TCG_EV.EV_NO_ACTION, data: locality(3) },
      { pcr: 0, type: TCG_EV.EV_EFI_HCRTM_EVENT, data: te.encode('HCRTM') },
    ]);
    const start = Buffer.alloc(32);
    start[31] = 4;
    const log = parseTcgLog(bytes);
    expect(log.hcrtm).toBe(true);
    expect(toHex(replay(log).get(SHA256)!.get(0)!)).toBe(h(SHA256, start, h(SHA256, te.encode('HCRTM'))).toString('hex'));
  });

  it('a duplicate StartupLocality event is rejected', () => {
    const bytes = buildAgileLog([
      { pcr: 0, type: TCG_EV.EV_NO_ACTION, data: locality(0) },
      { pcr: 0, type: TCG_EV.EV_NO_ACTION, data: locality(3) },
    ]);
    expect(() => parseTcgLog(bytes)).toThrow(/duplicate StartupLocality/);
  });

  it('a StartupLocality event of the wrong size or value is rejected', () => {
    expect(() => parseTcgLog(buildAgileLog([{ pcr: 0, type: 3, data: new Uint8Array([...locality(3), 0]) }]))).toThrow(MalformedInputError);
    expect(() => parseTcgLog(buildAgileLog([{ pcr: 0, type: 3, data: locality(9) }]))).toThrow(MalformedInputError);
  });
});

describe('banks: an event in one bank only, and "any bank passes"', () => {
  const bytes = buildAgileLog([
    { pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a') },
    { pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('b'), banks: [SHA256] },
  ]);
  const oracle = asPcrBanks(oracleReplay(bytes));

  it('an event lacking a SpecID bank is BANK_MISSING by default', () => {
    expect(codeOf(() => verifyLog(parseTcgLog(bytes), oracle))).toBe('BANK_MISSING');
  });

  it('allowMissingBanks compares only the complete banks and says which were left out', () => {
    const v = verifyLog(parseTcgLog(bytes), oracle, { allowMissingBanks: true });
    expect(v.pcrs).toEqual([expect.objectContaining({ pcr: 4, banks: [SHA256], incompleteBanks: [SHA1] })]);
  });

  it('one bank matching is not enough: a wrong SHA-1 value fails even when SHA-256 matches', () => {
    const full = buildAgileLog([{ pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a') }]);
    const q = asPcrBanks(oracleReplay(full));
    q.get(SHA1)!.set(4, new Uint8Array(20).fill(0x11));
    let err: VerificationError | undefined;
    try {
      verifyLog(parseTcgLog(full), q);
    } catch (e) {
      err = e as VerificationError;
    }
    expect(err?.code).toBe('PCR_REPLAY_MISMATCH');
    expect(err?.details).toMatchObject({ pcr: 4, bank: 'sha1' });
  });
});

describe('PCR not quoted (CVE-2022-0317)', () => {
  const bytes = buildAgileLog([
    { pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a') },
    { pcr: 7, type: TCG_EV.EV_SEPARATOR, data: sep },
  ]);
  const oracle = asPcrBanks(oracleReplay(bytes));

  it('a relied-on PCR missing from the quote is PCR_NOT_QUOTED, even when the others match', () => {
    const q = asPcrBanks(oracleReplay(bytes));
    for (const m of q.values()) m.delete(7);
    expect(codeOf(() => verifyLog(parseTcgLog(bytes), q))).toBe('PCR_NOT_QUOTED');
    // Relying only on PCR 4 is fine, and PCR 7's events are then not returned as verified.
    const v = verifyLog(parseTcgLog(bytes), q, { pcrs: [4] });
    expect(v.events.map((e) => e.pcr)).toEqual([4]);
  });

  it('a PCR quoted only in a bank the log does not carry is PCR_NOT_QUOTED', () => {
    const q = new Map([[0x0c, new Map([[4, new Uint8Array(48)]])]]);
    expect(codeOf(() => verifyLog(parseTcgLog(bytes), q, { pcrs: [4] }))).toBe('PCR_NOT_QUOTED');
  });

  it('a relied-on PCR without events must hold its start value in the quote', () => {
    const q = asPcrBanks(oracleReplay(bytes));
    q.get(SHA256)!.set(9, new Uint8Array(32));
    q.get(SHA256)!.set(18, new Uint8Array(32));
    expect(verifyLog(parseTcgLog(bytes), q, { pcrs: [9] }).pcrs[0]!.banks).toEqual([SHA256]);
    expect(codeOf(() => verifyLog(parseTcgLog(bytes), q, { pcrs: [18] }))).toBe('PCR_REPLAY_MISMATCH');
    expect(verifyLog(parseTcgLog(bytes), oracle).pcrs.map((p) => p.pcr)).toEqual([4, 7]);
  });
});

describe('retyped events: the type is not covered by the digest', () => {
  const dir = vectorsDir();
  it.skipIf(!dir)('changing an event type in a real log keeps the replay, so policy must match digests', () => {
    const f = join(dir!, 'go-attestation/crypto_agile_eventlog');
    const orig = new Uint8Array(readFileSync(f));
    const log = parseTcgLog(orig);
    const target = log.events.find((e) => e.type === TCG_EV.EV_EFI_BOOT_SERVICES_APPLICATION)!;
    const forged = orig.slice();
    new DataView(forged.buffer).setUint32(target.offset + 4, TCG_EV.EV_EFI_ACTION, true);
    const quoted = asPcrBanks(oracleReplay(orig));
    const v = verifyLog(parseTcgLog(forged), quoted);
    const e = v.events.find((x) => x.index === target.index)!;
    expect(e.typeName).toBe('EV_EFI_ACTION');
    expect(toHex(e.digests[0]!.digest)).toBe(toHex(target.digests[0]!.digest));
    // Retyping to EV_NO_ACTION drops the extend, which the quote catches.
    new DataView(forged.buffer).setUint32(target.offset + 4, TCG_EV.EV_NO_ACTION, true);
    expect(codeOf(() => verifyLog(parseTcgLog(forged), quoted))).toBe('PCR_REPLAY_MISMATCH');
  });
});

describe('separators and PCR 7 state', () => {
  it('duplicate separators and events after the PCR 7 separator are findings', () => {
    const bytes = buildAgileLog([
      { pcr: 7, type: TCG_EV.EV_EFI_VARIABLE_DRIVER_CONFIG, data: te.encode('var') },
      { pcr: 7, type: TCG_EV.EV_SEPARATOR, data: sep },
      { pcr: 7, type: TCG_EV.EV_EFI_VARIABLE_DRIVER_CONFIG, data: te.encode('late') },
      { pcr: 7, type: TCG_EV.EV_SEPARATOR, data: sep },
      { pcr: 4, type: TCG_EV.EV_SEPARATOR, data: new Uint8Array([1, 0, 0, 0]) },
    ]);
    const v = verifyLog(parseTcgLog(bytes), asPcrBanks(oracleReplay(bytes)));
    const codes = v.findings.map((x) => `${x.code}@${x.eventIndex}`);
    expect(codes).toEqual(expect.arrayContaining(['PCR7_EVENT_AFTER_SEPARATOR@3', 'DUPLICATE_SEPARATOR@4', 'SEPARATOR_ERROR@5']));
  });
});

describe('PCR index bounds and length overflow', () => {
  it('a trailing PCRIndex 0xFFFFFFFF event is kept, warned about and never extended', () => {
    const bytes = buildAgileLog([
      { pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a') },
      { pcr: 0xffffffff, type: TCG_EV.EV_EFI_ACTION, data: te.encode('trailer') },
    ]);
    const log = parseTcgLog(bytes);
    expect(log.events[2]).toMatchObject({ pcr: 0xffffffff, noExtend: true });
    expect(log.warnings.join()).toMatch(/0xFFFFFFFF/);
    expect(toHex(replay(log).get(SHA256)!.get(4)!)).toBe(oracleReplay(bytes).get(SHA256)!.get(4));
    expect(verifyLog(log, asPcrBanks(oracleReplay(bytes))).events.map((e) => e.index)).toEqual([1]);
  });

  it('PCRIndex 24 on an extending event is rejected', () => {
    expect(() => parseTcgLog(buildAgileLog([{ pcr: 24, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a') }]))).toThrow(/PCRIndex 24/);
  });

  it('a declared 3 GB event fails fast without allocating', () => {
    const bytes = buildAgileLog([{ pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a'), eventSize: 3 * 2 ** 30 }]);
    // No allocation of the declared size: ArrayBuffer memory stays flat (a 3 GB buffer would show until GC).
    const before = process.memoryUsage().arrayBuffers;
    expect(() => parseTcgLog(bytes)).toThrow(/needs 3221225472 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });

  it('a digest count larger than the SpecID bank list, or an unknown bank, is rejected', () => {
    const bytes = buildAgileLog([{ pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a') }]);
    const countAt = bytes.length - (12 + 2 + 20 + 2 + 32 + 4 + 1) + 8;
    const big = bytes.slice();
    new DataView(big.buffer).setUint32(countAt, 0xffffffff, true);
    expect(() => parseTcgLog(big)).toThrow(MalformedInputError);
    const unknown = bytes.slice();
    new DataView(unknown.buffer).setUint16(countAt + 4, 0x0c, true);
    expect(() => parseTcgLog(unknown)).toThrow(/not in the SpecID event/);
  });

  it('SpecID digest sizes that disagree with the algorithm, and unknown algorithms, are rejected', () => {
    const bytes = buildAgileLog([]);
    const wrong = bytes.slice();
    new DataView(wrong.buffer).setUint16(62, 32, true); // sha1 declared with 32 bytes
    expect(() => parseTcgLog(wrong)).toThrow(/digestSize 32 for sha1/);
    const unk = bytes.slice();
    new DataView(unk.buffer).setUint16(60, 0x7777, true);
    expect(() => parseTcgLog(unk)).toThrow(/unknown hash algorithm 0x7777/);
  });
});
