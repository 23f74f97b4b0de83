/**
 * Hostile event-log sizes (spec/eventlog.md, "Event store", spec/aibom-v1.md bootEventLog cap): 10 MB of the densest
 * possible TCG_PCR_EVENT2 records (16 bytes, no digests, EV_SEPARATOR data that fails to decode) used to cost an
 * object per event and a thrown error per event (seconds and ~0.5 GiB); an AIBOM's 59 MB boot log was base64-decoded,
 * parsed and replayed before anything refused it. Memory is asserted from structure sizes and heap deltas, never time.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { parseAibom } from '../src/aibom/parse.js';
import { encodeCbor } from '../src/aibom/cbor.js';
import { eventCount, iterEvents, storeOf } from '../src/eventlog/store.js';
import { parseTcgLog } from '../src/eventlog/tcg.js';
import { replay } from '../src/eventlog/replay.js';
import { verifyLog } from '../src/eventlog/verify.js';
import { MalformedInputError, VerificationError } from '../src/errors.js';
import { statementJson } from './helpers/aibom-fixtures.js';

const EV_SEPARATOR = 4;

/** First event: a Spec ID Event03 declaring sha256 only (built here from PFP r1.06 §10.4.5.1, not by aicert). */
function specIdHeader(): Buffer {
  const spec = Buffer.concat([Buffer.from('Spec ID Event03\0', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 2, 0, 2, 1, 0, 0, 0, 11, 0, 32, 0, 0])]);
  const first = Buffer.alloc(32);
  first.writeUInt32LE(3, 4);
  first.writeUInt32LE(spec.length, 28);
  return Buffer.concat([first, spec]);
}

/** `n` 16-byte TCG_PCR_EVENT2 records (PCR i % 8, EV_SEPARATOR, zero digests, zero data), then `tail` sha256 events. */
function denseLog(n: number, tail: Buffer[] = []): Buffer {
  const head = specIdHeader();
  const ev = Buffer.alloc(16 * n);
  for (let i = 0; i < n; i++) {
    ev.writeUInt32LE(i % 8, 16 * i);
    ev.writeUInt32LE(EV_SEPARATOR, 16 * i + 4);
  }
  const recs = tail.map((data) => {
    const r = Buffer.alloc(12 + 2 + 32 + 4);
    r.writeUInt32LE(7, 0);
    r.writeUInt32LE(0x80000007, 4);
    r.writeUInt32LE(1, 8);
    r.writeUInt16LE(11, 12);
    createHash('sha256').update(data).digest().copy(r, 14);
    r.writeUInt32LE(data.length, 46);
    return Buffer.concat([r, data]);
  });
  return Buffer.concat([head, ev, ...recs]);
}

const heapNow = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('10 MB of 16-byte events', () => {
  const N = 625_000;
  const tail = [Buffer.from('after the flood')];
  const bytes = new Uint8Array(denseLog(N, tail));

  test('parse + replay hold a compact store, not an object per event (heap growth under 10× the log)', () => {
    expect(bytes.length).toBeGreaterThan(10e6);
    const before = heapNow();
    const log = parseTcgLog(bytes);
    const rep = replay(log);
    const grown = heapNow() - before;
    // Independent replay of the one extending digest (PCR 7, sha256, from zero) with node:crypto.
    const d = createHash('sha256').update(tail[0]!).digest();
    const want = createHash('sha256').update(Buffer.alloc(32)).update(d).digest('hex');
    expect(Buffer.from(rep.get(11)!.get(7)!).toString('hex')).toBe(want);
    expect(eventCount(log)).toBe(N + 2);
    // Structure size: the private copy of the log plus 5 bytes per possible 16-byte record.
    const s = storeOf(log)!;
    expect(s).toBeDefined();
    expect(s.bytes.byteLength + s.at.byteLength + s.flags.byteLength).toBeLessThanOrEqual(bytes.length * (1 + 5 / 16) + 64);
    // Generous (the heap also holds garbage not yet collected); the old parser kept ~700 bytes per event: 445 MB here.
    expect(grown).toBeLessThan(10 * bytes.length);
  });

  test('events are built one at a time on demand, with the same fields the array form has', () => {
    const log = parseTcgLog(bytes);
    let k = 0;
    for (const e of iterEvents(log)) {
      if (k === 1) {
        expect(e).toMatchObject({ index: 1, pcr: 0, type: EV_SEPARATOR, typeName: 'EV_SEPARATOR', digests: [], offset: specIdHeader().length });
        expect((e.decoded as { error?: string }).error).toMatch(/EV_SEPARATOR/);
      }
      if (++k > 2) break;
    }
    expect(storeOf(log)).toBeDefined();
  });

  test('reading log.events materialises the array once; from then on replay reads it (edits are honoured)', () => {
    const log = parseTcgLog(new Uint8Array(denseLog(10_000, tail)));
    expect(storeOf(log)).toBeDefined();
    const last = log.events.at(-1)!;
    expect(log.events.length).toBe(10_002);
    expect(storeOf(log)).toBeUndefined();
    expect(last.data).toEqual(new Uint8Array(tail[0]!));
    log.events.pop();
    expect(replay(log).size).toBe(0);
  });

  test('a frozen log still reads: each access builds the array, the store stays', () => {
    const log = Object.freeze(parseTcgLog(new Uint8Array(denseLog(3, tail))));
    expect(log.events.length).toBe(5);
    expect(log.events).not.toBe(log.events);
    expect(storeOf(log)).toBeDefined();
  });

  test('longer records: the offset table is trimmed to the event count; adopt keeps the caller buffer', () => {
    const b = new Uint8Array(denseLog(0, Array.from({ length: 1000 }, (_, i) => Buffer.from(`event ${i}`.padEnd(60, '.')))));
    const log = parseTcgLog(b, { adopt: true });
    expect(storeOf(log)!.at.length).toBe(1001);
    expect(storeOf(log)!.bytes).toBe(b);
  });

  test('a failing verifyLog reads the store without building (or decoding) the event array', () => {
    const log = parseTcgLog(new Uint8Array(denseLog(0, Array.from({ length: 1000 }, (_, i) => Buffer.from(`event ${i}`)))));
    const quoted = new Map([[11, new Map([[7, new Uint8Array(32)]])]]);
    const e = (() => {
      try {
        verifyLog(log, quoted, { pcrs: [7] });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(VerificationError);
    expect((e as VerificationError).code).toBe('PCR_REPLAY_MISMATCH');
    expect(storeOf(log)).toBeDefined();
  });

  test('the store reads a private copy: changing the caller buffer after parsing changes nothing', () => {
    const b = new Uint8Array(denseLog(4, tail));
    const log = parseTcgLog(b);
    b.fill(0xee);
    const d = createHash('sha256').update(tail[0]!).digest();
    expect(Buffer.from(replay(log).get(11)!.get(7)!).toString('hex')).toBe(createHash('sha256').update(Buffer.alloc(32)).update(d).digest('hex'));
  });
});

describe('AIBOM boot event log cap (4 MiB), checked from its length before decoding', () => {
  const CAP = 4 * 1024 * 1024;
  const v1 = (bootEventLog: unknown): Record<string, unknown> => ({
    _type: 'https://aicert.dev/aibom/v1',
    statement: Buffer.from(statementJson([])).toString('base64'),
    evidence: { tpm: { attest: '', signature: '', pcrs: {}, akCertificates: [''] }, appEventLog: {}, nonce: '00'.repeat(32), bootEventLog },
  });
  // In CBOR every byte field is a byte string (spec/strict-encodings.md): the same document with bytes, not base64.
  const v1Cbor = (bootEventLog: Uint8Array): Uint8Array =>
    encodeCbor({
      _type: 'https://aicert.dev/aibom/v1',
      statement: new Uint8Array(Buffer.from(statementJson([]))),
      evidence: { tpm: { attest: new Uint8Array(0), signature: new Uint8Array(0), pcrs: {}, akCertificates: [new Uint8Array(0)] }, appEventLog: {}, nonce: '00'.repeat(32), bootEventLog },
    });
  const refusal = (doc: Uint8Array | string): unknown => {
    try {
      parseAibom(doc);
    } catch (e) {
      return e;
    }
    return undefined;
  };

  test('JSON: a text longer than base64 of 4 MiB is refused by size; its bytes were never decoded', () => {
    // Not base64 at all: decoding would have failed with "not standard padded base64" instead.
    const e = refusal(JSON.stringify(v1('!'.repeat(4 * Math.ceil(CAP / 3) + 4))));
    expect(e).toBeInstanceOf(MalformedInputError);
    expect((e as MalformedInputError).code).toBe('MALFORMED_INPUT');
    expect((e as MalformedInputError).path).toBe('evidence.bootEventLog');
    expect((e as Error).message).toMatch(/larger than 4194304 bytes/);
  });

  test('CBOR: a 59 MB byte string is refused by size before it is copied or parsed as a log', () => {
    const e = refusal(v1Cbor(new Uint8Array(59e6).fill(0xa5)));
    expect(e).toBeInstanceOf(MalformedInputError);
    expect((e as MalformedInputError).path).toBe('evidence.bootEventLog');
    expect((e as Error).message).toMatch(/larger than 4194304 bytes/);
  });

  test('a log of exactly 4 MiB passes the size check (the limit is the spec value, not lower)', () => {
    const ok = parseAibom(v1Cbor(new Uint8Array(CAP)));
    expect(ok.bootEventLog?.length).toBe(CAP);
    const b64 = Buffer.alloc(CAP).toString('base64');
    expect(parseAibom(JSON.stringify(v1(b64))).bootEventLog?.length).toBe(CAP);
  });
});
