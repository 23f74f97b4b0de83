/**
 * Conformance: every TCG log in ../shared/vectors (MANIFEST.md) replays to its origin repository's expected values
 * (go-tpm-tools / go-attestation JSON, tpm2-tools fixture YAML, the tpm2-tss unit-test PCR0), and to an independent
 * node:crypto replay; negative and edge vectors fail with typed errors or parse with the warnings MANIFEST describes.
 * The Debian tpm2_eventlog 5.4 YAML beside each log is NOT used (wrong PCR0 on 6 logs, crashes on others).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedInputError, VerificationError } from '../src/errors.js';
import { parseTcgLog } from '../src/eventlog/tcg.js';
import { initialPcrValue, replay } from '../src/eventlog/replay.js';
import { verifyLog } from '../src/eventlog/verify.js';
import { toHex } from '../src/util/bytes.js';
import { hashAlgByName, hashName } from '../src/util/hash.js';
import { vectorsDir } from './helpers/vectors.js';
import { asPcrBanks, oracleReplay } from './eventlog-tcg-oracle.js';

const dir = vectorsDir();
const read = (f: string) => new Uint8Array(readFileSync(join(dir!, f)));

/** bank name -> PCR -> lowercase hex. */
export type ExpectedBanks = Record<string, Record<string, string>>;

const SIZES: Record<string, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64, sm3_256: 32 };

/** Parses the `pcrs:` section of a tpm2_eventlog YAML (tpm2-tools fixture). */
export function parseTpm2ToolsYamlPcrs(yaml: string): ExpectedBanks {
  const out: ExpectedBanks = {};
  const at = yaml.search(/^pcrs:\s*$/m);
  if (at < 0) return out;
  let bank: string | undefined;
  for (const line of yaml.slice(at).split('\n').slice(1)) {
    const b = /^ {2}(\w+):\s*$/.exec(line);
    if (b) {
      bank = b[1]!;
      out[bank] = {};
      continue;
    }
    const p = /^ {4}(\d+)\s*:\s*0x([0-9a-fA-F]+)\s*$/.exec(line);
    if (p && bank) out[bank]![p[1]!] = p[2]!.toLowerCase().padStart(2 * (SIZES[bank] ?? 0), '0');
    else if (line.trim() && !line.startsWith(' ')) break;
  }
  return out;
}

/** One conformance case: a log file and the values its origin expects. */
export interface ExpectedCase {
  file: string;
  source: string;
  banks: ExpectedBanks;
  /** PCRs the origin lists whose value needs a named workaround. */
  workaround?: 'exitBootServices';
}

/** Every vector with origin-provided expected values. */
export function loadExpectedCases(dir: string): ExpectedCase[] {
  const cases: ExpectedCase[] = [];
  // go-tpm-tools: one JSON with expected values per log.
  const gtt = JSON.parse(readFileSync(join(dir, 'go-tpm-tools/expected_pcrs_from_server_eventlog_test.json'), 'utf8')) as Record<
    string,
    { banks: ExpectedBanks }
  >;
  for (const [f, v] of Object.entries(gtt)) cases.push({ file: `go-tpm-tools/${f}`, source: 'go-tpm-tools server/eventlog_test.go', banks: v.banks });
  // go-attestation: *.expected_pcrs.json beside the log.
  for (const [log, json] of [
    ['go-attestation/sb_cert_eventlog', 'go-attestation/sb_cert_eventlog.expected_pcrs.json'],
    ['go-attestation/windows_gcp_shielded_vm.Log.Raw.bin', 'go-attestation/windows_gcp_shielded_vm.expected_pcrs.json'],
    ['go-attestation/ebs_event_missing_eventlog', 'go-attestation/ebs_event_missing_eventlog.expected_pcrs.json'],
  ] as const) {
    const j = JSON.parse(readFileSync(join(dir, json), 'utf8')) as { source: string; banks: ExpectedBanks };
    const c: ExpectedCase = { file: log, source: j.source, banks: j.banks };
    if (log.includes('ebs_event_missing')) c.workaround = 'exitBootServices';
    cases.push(c);
  }
  // tpm2-tools: fixture YAML (expected-yaml-raw) written by the tpm2-tools test suite.
  const yamlDir = join(dir, 'tpm2-tools/expected-yaml-raw');
  for (const f of [
    'event-arch-linux.bin', 'event-bootorder.bin', 'event-gce-ubuntu-2104-log.bin', 'event-moklisttrusted.bin', 'event-postcode.bin',
    'event-sd-boot-fedora37.bin', 'event-uefi-sha1-log.bin', 'event-uefiaction.bin', 'event-uefiservices.bin', 'event-uefivar.bin',
  ]) {
    const y = join(yamlDir, `${f}.yaml`);
    if (existsSync(y)) cases.push({ file: `tpm2-tools/${f}`, source: 'tpm2-tools fixture yaml', banks: parseTpm2ToolsYamlPcrs(readFileSync(y, 'utf8')) });
  }
  const ev = join(dir, 'tpm2-tools/event.bin.yaml');
  if (existsSync(ev)) cases.push({ file: 'tpm2-tools/event.bin', source: 'tpm2-tools fixture event.bin.yaml', banks: parseTpm2ToolsYamlPcrs(readFileSync(ev, 'utf8')) });
  // tpm2-tss: test/unit/fapi-eventlog.c expects this SHA-1 PCR0 for the H-CRTM log (quoted in MANIFEST.md).
  cases.push({
    file: 'tpm2-tss/binary_measurements_hcrtm.bin',
    source: 'tpm2-tss test/unit/fapi-eventlog.c',
    banks: { sha1: { '0': '15f4e6ca457d1af6bc49511a93ba3500ad69acc5' } },
  });
  return cases;
}

/** Expected values as quoted PcrBanks (bank -> pcr -> bytes), only banks aicert knows. */
function quotedFrom(banks: ExpectedBanks): Map<number, Map<number, Uint8Array>> {
  const q = new Map<number, Map<number, Uint8Array>>();
  for (const [name, pcrs] of Object.entries(banks)) {
    const alg = hashAlgByName(name)!;
    q.set(alg, new Map(Object.entries(pcrs).map(([p, v]) => [Number(p), new Uint8Array(Buffer.from(v, 'hex'))])));
  }
  return q;
}

/** TCG logs named in MANIFEST.md (the IMA lists, ACPI tables, confidential-VM evidence and the non-log files are excluded). */
const TCG_LOGS = (d: string) =>
  readdirSync(d, { recursive: true, encoding: 'utf8' })
    .filter((f) => !/\.(yaml|json|warn|pem|tpmt_public|tpms_attest|tpmt_signature|md)$/.test(f) && !f.includes('expected-yaml'))
    .filter((f) => !/sml-ima|binary_bios_measurements-(bogus|empty)|CCEL\.bin$|table\.bin$/.test(f))
    .filter((f) => !/^(constellation|fluorite|trustee|keylime\/ima-ascii)\//.test(f))
    .filter((f) => existsSync(join(d, f)) && statSync(join(d, f)).isFile() && !readdirSync(d).includes(f))
    .sort();

describe.skipIf(!dir)('TCG event-log conformance (shared vectors)', () => {
  const cases = dir ? loadExpectedCases(dir) : [];

  // The workaround case has its own test below (its origin values are all for the PCR that needs it).
  it.each(cases.filter((c) => !c.workaround).map((c) => [c.file, c] as const))('%s replays to its origin expected values', (_f, c) => {
    const log = parseTcgLog(read(c.file));
    const rep = replay(log);
    const withEvents = new Set(log.events.filter((e) => !e.noExtend).map((e) => e.pcr));
    let compared = 0;
    for (const [name, pcrs] of Object.entries(c.banks)) {
      const alg = hashAlgByName(name)!;
      if (!log.banks.includes(alg)) continue; // e.g. sha256 values listed for a SHA1-only log
      for (const [p, want] of Object.entries(pcrs)) {
        // Origin JSON lists whole quotes; MANIFEST compares the PCRs the log extends (PCR 10 there is IMA's, say).
        if (!withEvents.has(Number(p))) continue;
        const got = rep.get(alg)!.get(Number(p))!;
        expect(`${name}:${p}:${toHex(got)}`).toBe(`${name}:${p}:${want}`);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
    // The same values also verify through verifyLog, for every listed PCR the log extends.
    const allowMissingBanks = /uefivar|uefiaction/.test(c.file);
    const pcrs = [...new Set(Object.values(c.banks).flatMap((b) => Object.keys(b).map(Number)))].filter((p) => withEvents.has(p));
    const v = verifyLog(log, quotedFrom(c.banks), { allowMissingBanks, pcrs });
    expect(v.pcrs.map((x) => x.pcr)).toEqual(pcrs.sort((a, b) => a - b));
  });

  it('PCRs 17-22 start at all-0xFF and the rest at zero, as the Windows and secure-boot quotes show', () => {
    for (const c of cases.filter((x) => /windows_gcp|sb_cert/.test(x.file))) {
      const log = parseTcgLog(read(c.file));
      const withEvents = new Set(log.events.filter((e) => !e.noExtend).map((e) => e.pcr));
      for (const p of [1, 2, 3, 6, 8, 9, 15, 16, 17, 18, 19, 20, 21, 22, 23].filter((x) => !withEvents.has(x))) {
        expect(toHex(initialPcrValue(log, 0x04, p))).toBe(c.banks.sha1![String(p)]);
      }
    }
  });

  it('ebs_event_missing_eventlog PCR5 needs the named Exit Boot Services workaround', () => {
    const c = cases.find((x) => x.workaround)!;
    const log = parseTcgLog(read(c.file));
    const quoted = quotedFrom(c.banks);
    let err: unknown;
    try {
      verifyLog(log, quoted, { pcrs: [5] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerificationError);
    expect((err as VerificationError).code).toBe('PCR_REPLAY_MISMATCH');
    expect((err as VerificationError).details).toMatchObject({ pcr: 5, bank: 'sha1' });
    const ok = verifyLog(log, quoted, { pcrs: [5], exitBootServicesWorkaround: true });
    expect(ok.pcrs).toEqual([expect.objectContaining({ pcr: 5, banks: [0x04], workaround: 'exitBootServices' })]);
    // The parsed log itself is untouched by the workaround.
    expect(parseTcgLog(read(c.file)).events.length).toBe(log.events.length);
  });

  it('every TCG log in MANIFEST parses and matches an independent node:crypto replay in every bank', () => {
    const files = TCG_LOGS(dir!);
    expect(files.length).toBeGreaterThan(40);
    for (const f of files) {
      const log = parseTcgLog(read(f));
      const oracle = oracleReplay(read(f));
      const rep = replay(log);
      for (const [alg, pcrs] of oracle) {
        for (const [p, want] of pcrs) expect(`${f} ${hashName(alg)}:${p}:${toHex(rep.get(alg)!.get(p)!)}`).toBe(`${f} ${hashName(alg)}:${p}:${want}`);
      }
      // Same banks on both sides (the tpm2-tss H-CRTM log's sm3_256 bank included: OpenSSL hashes SM3).
      expect([...rep.keys()].sort()).toEqual([...oracle.keys()].sort());
    }
  });
});

describe.skipIf(!dir)('negative and edge vectors', () => {
  it.each([
    'keylime/binary_bios_measurements-bogus',
    'keylime/binary_bios_measurements-empty',
    'go-eventlog/CCEL.bin',
    'go-eventlog/cos-113-intel-tdx.table.bin',
  ])('%s is rejected with MalformedInputError', (f) => {
    expect(() => parseTcgLog(read(f))).toThrow(MalformedInputError);
  });

  it('short_no_action_eventlog (49 bytes, no SpecID) parses as SHA-1 with StartupLocality 3', () => {
    const log = parseTcgLog(read('go-attestation/short_no_action_eventlog'));
    expect(log.format).toBe('tcg-pcclient-sha1');
    expect(log.events).toHaveLength(1);
    expect(log.events[0]!.noExtend).toBe(true);
    expect(log.startupLocality).toBe(3);
    expect(replay(log).size).toBe(0);
    expect(toHex(initialPcrValue(log, 0x04, 0))).toBe('00'.repeat(19) + '03');
  });

  it.each(['tpm2-tools/specid-vendordata.bin'])('%s (EventSize 37, real 41) parses with a warning, as tpm2-tools does', (f) => {
    const log = parseTcgLog(read(f));
    expect(log.format).toBe('tcg-pcclient-crypto-agile');
    expect(log.banks).toEqual([0x04, 0x0b]);
    expect(log.warnings.join('\n')).toMatch(/EventSize is 37 but the structure is 41/);
    expect(log.events[0]!.decoded).toMatchObject({ kind: 'SpecID', vendorInfo: 'deadbeef' });
  });

  it('0xFF-padded TDX CCEL logs parse, keep the SpecID PCR index, and warn with the pad size', () => {
    const log = parseTcgLog(read('go-eventlog/cos-113-intel-tdx.bin'));
    expect(log.format).toBe('tcg-pcclient-crypto-agile');
    expect(log.banks).toEqual([0x0c]);
    expect(log.events[0]!.pcr).toBe(1);
    expect(log.warnings).toContain('244043 bytes of 0xFF padding at the end of the log (offset 18101)');
    const unpadded = parseTcgLog(read('go-eventlog/cos-113-intel-tdx-dupe-separator-unpadded.bin'));
    expect(unpadded.warnings.some((w) => /padding/.test(w))).toBe(false);
  });

  it('the TDX log with a duplicated separator verifies but reports DUPLICATE_SEPARATOR', () => {
    const f = 'go-eventlog/cos-113-intel-tdx-dupe-separator.bin';
    const log = parseTcgLog(read(f));
    const v = verifyLog(log, asPcrBanks(oracleReplay(read(f))));
    expect(v.findings.filter((x) => x.code === 'DUPLICATE_SEPARATOR').length).toBeGreaterThan(0);
    const clean = parseTcgLog(read('go-eventlog/cos-113-intel-tdx.bin'));
    const v2 = verifyLog(clean, asPcrBanks(oracleReplay(read('go-eventlog/cos-113-intel-tdx.bin'))));
    expect(v2.findings.filter((x) => x.code === 'DUPLICATE_SEPARATOR')).toEqual([]);
  });

  it('the tpm2-tss H-CRTM log starts PCR0 at ...04 and replays SHA-1 PCR0 to the tpm2-tss unit-test value', () => {
    const log = parseTcgLog(read('tpm2-tss/binary_measurements_hcrtm.bin'));
    expect(log.hcrtm).toBe(true);
    expect(log.banks).toEqual([0x04, 0x0b, 0x12]);
    expect(toHex(replay(log).get(0x04)!.get(0)!)).toBe('15f4e6ca457d1af6bc49511a93ba3500ad69acc5');
  });

  it('event-arch-linux.bin: the event tpm2-tools warns about (also in go-tpm-tools arch-linux-workstation.bin) is reported as EVENT_DATA_DIGEST_MISMATCH', () => {
    const f = 'tpm2-tools/event-arch-linux.bin';
    expect(readFileSync(join(dir!, f + '.warn'), 'utf8')).toMatch(/Event 24/);
    const log = parseTcgLog(read(f));
    const v = verifyLog(log, asPcrBanks(oracleReplay(read(f))));
    expect(v.findings.filter((x) => x.code === 'EVENT_DATA_DIGEST_MISMATCH').map((x) => x.eventIndex)).toEqual([24]);
  });

  it('no other vector has an EVENT_DATA_DIGEST_MISMATCH finding (the checked types are hashed as stored)', () => {
    for (const f of TCG_LOGS(dir!).filter((x) => !x.includes('arch-linux'))) {
      const log = parseTcgLog(read(f));
      const oracle = asPcrBanks(oracleReplay(read(f)));
      const v = verifyLog(log, oracle, { allowMissingBanks: true, pcrs: [...new Set([...oracle.values()].flatMap((m) => [...m.keys()]))] });
      expect(`${f}: ${v.findings.filter((x) => x.code === 'EVENT_DATA_DIGEST_MISMATCH').map((x) => x.message)}`).toBe(`${f}: `);
    }
  });
});
