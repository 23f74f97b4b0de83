/** parseEventLog auto-detection over the project's fixtures and every shared vector. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MalformedInputError } from '../src/errors.js';
import { parseEventLog, type UnrecognisedLogError } from '../src/eventlog/detect.js';
import { parseTcgLog } from '../src/eventlog/tcg.js';
import { vectorsDir } from './helpers/vectors.js';

const F = join(import.meta.dirname, 'fixtures/eventlog');
const fx = (n: string) => new Uint8Array(readFileSync(join(F, n)));
const V = vectorsDir();
const vec = (p: string) => new Uint8Array(readFileSync(join(V!, p)));

function unrecognised(b: Uint8Array): UnrecognisedLogError {
  try {
    parseEventLog(b);
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedInputError);
    return e as UnrecognisedLogError;
  }
  throw new Error('expected parseEventLog to throw');
}

describe('parseEventLog on the project fixtures', () => {
  it.each([
    ['cel.tlv', 'cel-tlv'],
    ['cel.json', 'cel-json'],
    ['cel.cbor', 'cel-cbor'],
    ['cel-seq.cbor', 'cel-cbor'],
    ['systemd-tpm2-measure.log', 'cel-json-seq'],
    ['aicert-events.json', 'aicert-json'],
  ])('%s is %s', (name, format) => {
    expect(parseEventLog(fx(name)).format).toBe(format);
  });

  it('an aicert list gets PCR 14 with a warning unless aicertPcr is given', () => {
    const a = parseEventLog(fx('aicert-events.json'));
    expect(a.events[0]!.pcr).toBe(14);
    expect(a.warnings.join()).toMatch(/PCR 14 assumed/);
    const b = parseEventLog(fx('aicert-events.json'), { aicertPcr: 8 });
    expect(b.events[0]!.pcr).toBe(8);
    expect(b.warnings).toEqual([]);
  });

  it('empty input, an empty JSON array and text are unrecognised, with a reason per format', () => {
    for (const b of [new Uint8Array(), new TextEncoder().encode('[]'), new TextEncoder().encode('hello world, not a log')]) {
      const e = unrecognised(b);
      expect(e.message).toMatch(/unrecognised/);
      expect(Object.keys(e.reasons).sort()).toEqual(['aicert-json', 'cel-cbor', 'cel-json', 'cel-json-seq', 'cel-tlv', 'ima', 'ima-ascii', 'tcg']);
    }
  });
});

describe.skipIf(!V)('parseEventLog on the shared vectors', () => {
  const tcgFiles = V
    ? ['go-attestation', 'go-eventlog', 'go-tpm-tools', 'keylime', 'tpm2-tools', 'tpm2-tss'].flatMap((d) =>
        readdirSync(join(V, d))
          .filter((f) => statSync(join(V, d, f)).isFile())
          .filter((f) => !/\.(yaml|json|warn|pem|tpmt_public|tpms_attest|tpmt_signature)$/.test(f) && !f.startsWith('sml-ima'))
          .map((f) => `${d}/${f}`),
      )
    : [];

  it.each(tcgFiles)('%s: same result as parseTcgLog, or unrecognised', (p) => {
    const b = vec(p);
    let direct: ReturnType<typeof parseTcgLog> | undefined;
    try {
      direct = parseTcgLog(b);
    } catch {
      direct = undefined;
    }
    if (direct && b.length > 0) {
      const log = parseEventLog(b);
      expect(log.format).toBe(direct.format);
      expect(log.events.length).toBe(direct.events.length);
    } else {
      expect(unrecognised(b).message).toMatch(/unrecognised/);
    }
  });

  it('keylime bogus / empty and the go-eventlog CCEL ACPI tables are unrecognised', () => {
    for (const p of ['keylime/binary_bios_measurements-bogus', 'keylime/binary_bios_measurements-empty', 'go-eventlog/CCEL.bin', 'go-eventlog/cos-113-intel-tdx.table.bin']) {
      const e = unrecognised(vec(p));
      expect(e.message).toMatch(/unrecognised/);
      expect(e.reasons.tcg).toBeDefined();
    }
  });

  it('IMA lists are detected; a truncated one is unrecognised unless allowTruncatedTail is passed', () => {
    expect(parseEventLog(vec('tpm2-tss/sml-ima-sha1-invalidated.bin')).format).toBe('ima');
    expect(parseEventLog(vec('tpm2-tss/sml-ima-sig-sha256-invalidated.bin')).format).toBe('ima');
    const e = unrecognised(vec('tpm2-tss/sml-ima-sig-sha256.bin'));
    expect(e.reasons.ima).toMatch(/template hash: needs 20 bytes/);
    expect(parseEventLog(vec('tpm2-tss/sml-ima-sig-sha256.bin'), { ima: { allowTruncatedTail: true } }).format).toBe('ima');
  });

  it('fuzz: mutated vectors and fixtures give an EventLog or MalformedInputError only', () => {
    const seeds = [
      ...['tpm2-tools/event-uefivar.bin', 'go-attestation/short_no_action_eventlog', 'tpm2-tss/sml-ima-sha1.bin', 'tpm2-tools/event-uefi-sha1-log.bin'].map(vec),
      ...['cel.tlv', 'cel.json', 'cel.cbor', 'systemd-tpm2-measure.log', 'aicert-events.json'].map(fx),
    ];
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), fc.nat(), (s, muts, cut) => {
        const src = seeds[s]!;
        const b = src.slice(0, cut % 3 === 0 ? cut % (src.length + 1) : src.length);
        for (const [i, v] of muts) if (b.length) b[i % b.length] = v;
        try {
          parseEventLog(b);
        } catch (e) {
          if (!(e instanceof MalformedInputError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseEventLog fuzz', () => {
  it('random bytes (and random bytes behind each signature byte) give only MalformedInputError', () => {
    fc.assert(
      fc.property(fc.constantFrom(-1, 0x00, 0x1e, 0x5b, 0x7b, 0x81, 0x9a, 0xa5, 0x0a), fc.uint8Array({ maxLength: 400 }), (lead, rest) => {
        const b = lead < 0 ? rest : new Uint8Array([lead, ...rest]);
        try {
          parseEventLog(b);
        } catch (e) {
          if (!(e instanceof MalformedInputError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
