// Event-log forms of confidential VMs and keylime: ASCII IMA lists (shared keylime vectors; generated lines whose
// template hashes openssl computes) and CEL-TLV CCMR records (generated; RTMR values from openssl's SHA-384).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { replayCcmr } from '../src/eventlog/cel-ccmr.js';
import { parseEventLog } from '../src/eventlog/detect.js';
import { parseImaAscii } from '../src/eventlog/ima-ascii.js';
import { replay } from '../src/eventlog/replay.js';
import { runCli } from './helpers/cli.js';
import { vectorsDir } from './helpers/vectors.js';

const V = vectorsDir();
const openssl = (alg: string, data: Uint8Array): string => execFileSync('openssl', ['dgst', `-${alg}`, '-binary'], { input: data }).toString('hex');
const u32le = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]);

describe.skipIf(!V)('keylime ASCII IMA lists', () => {
  it('ima-log-unknown (keylime\'s unknown-algorithm case): parsed, but its template hash is not SHA-256 nor SHA-1 of the data (checked with Python hashlib too), so a warning says so', () => {
    const log = parseEventLog(new Uint8Array(readFileSync(join(V!, 'keylime/ima-ascii/ima-log-unknown'))));
    expect((log.events[1]!.decoded as { templateHashValid: boolean; fileDigestAlgo: string }).templateHashValid).toBe(false);
    expect((log.events[1]!.decoded as { fileDigestAlgo: string }).fileDigestAlgo).toBe('unknown');
    expect(log.warnings.join(' ')).toMatch(/template hash is not/);
  });
  for (const f of ['ima-log-sha1', 'ima-log-sha256']) {
    it(`${f}: detected, every non-invalidated template hash equals the hash of the rebuilt template data`, () => {
      const log = parseEventLog(new Uint8Array(readFileSync(join(V!, 'keylime/ima-ascii', f))));
      expect(log.format).toBe('ima-ascii');
      expect(log.events.length).toBe(2);
      for (const e of log.events) {
        const d = e.decoded as { invalidated: boolean; templateHashValid?: boolean; fileName?: string };
        if (!d.invalidated) expect(d.templateHashValid, `${f} ${d.fileName}`).toBe(true);
      }
      expect((log.events[1]!.decoded as { fileName: string }).fileName).toBe('/data');
    });
  }
});

describe('generated ASCII IMA lines (template hashes by openssl)', () => {
  const tdata = (algo: string, digest: Buffer, name: string) => {
    const d = Buffer.concat([Buffer.from(`${algo}:\0`), digest]);
    const n = Buffer.from(`${name}\0`);
    return Buffer.concat([u32le(d.length), d, u32le(n.length), n]);
  };
  it('ima-ng lines with names containing spaces replay like the binary list', () => {
    const files = [['sha256', Buffer.alloc(32, 1), '/usr/bin/a b'], ['sha1', Buffer.alloc(20, 2), '/etc/x']] as const;
    const text = files.map(([a, d, n]) => `10 ${openssl('sha1', tdata(a, d, n))} ima-ng ${a}:${d.toString('hex')} ${n}`).join('\n') + '\n';
    const log = parseImaAscii(new TextEncoder().encode(text));
    expect(log.events.map((e) => (e.decoded as { templateHashValid: boolean }).templateHashValid)).toEqual([true, true]);
    expect((log.events[0]!.decoded as { fileName: string }).fileName).toBe('/usr/bin/a b');
    let pcr = Buffer.alloc(20);
    for (const [a, d, n] of files) pcr = Buffer.from(openssl('sha1', Buffer.concat([pcr, Buffer.from(openssl('sha1', tdata(a, d, n)), 'hex')])), 'hex');
    expect(Buffer.from(replay(log).get(0x0004)!.get(10)!).toString('hex')).toBe(pcr.toString('hex'));
  });
  it('a changed digit makes the template hash invalid; a malformed line is MalformedInputError', () => {
    const d = Buffer.alloc(32, 7);
    const good = `10 ${openssl('sha1', tdata('sha256', d, '/f'))} ima-ng sha256:${d.toString('hex')} /f`;
    const bad = parseImaAscii(new TextEncoder().encode(good.replace(/\/f$/, '/g')));
    expect((bad.events[0]!.decoded as { templateHashValid: boolean }).templateHashValid).toBe(false);
    expect(() => parseImaAscii(new TextEncoder().encode('10 abc ima-ng x'))).toThrow(MalformedInputError);
    expect(() => parseImaAscii(new TextEncoder().encode(`${good}\n\n`))).toThrow(MalformedInputError);
  });
});

describe('CEL-TLV with CCMR (type 108) records', () => {
  const tlv = (t: number, v: Uint8Array) => Buffer.concat([Buffer.from([t]), Buffer.from([v.length >>> 24, (v.length >> 16) & 0xff, (v.length >> 8) & 0xff, v.length & 0xff]), v]);
  const record = (n: number, mr: number, content: Buffer) => {
    const digest = Buffer.from(openssl('sha384', content), 'hex');
    return Buffer.concat([tlv(0, Buffer.from([0, 0, 0, 0, 0, 0, 0, n])), tlv(108, Buffer.from([mr])), tlv(3, tlv(0x0c, digest)), tlv(80, content)]);
  };
  const contents = [Buffer.from('image-ref'), Buffer.from('arg'), Buffer.from('env')];
  const log = Buffer.concat(contents.map((c, i) => record(i, 4, c)));
  it('is detected, read as MR indices (never PCRs), and replays RTMR3 to openssl\'s value', () => {
    const l = parseEventLog(new Uint8Array(log));
    expect(l.format).toBe('cel-tlv');
    expect(l.events.every((e) => e.noExtend && e.pcr === -1)).toBe(true);
    expect((l.events[0]!.decoded as { register: string }).register).toBe('RTMR3');
    expect(replay(l).size === 0 || [...replay(l).values()].every((m) => m.size === 0)).toBe(true);
    let mr = Buffer.alloc(48);
    for (const c of contents) mr = Buffer.from(openssl('sha384', Buffer.concat([mr, Buffer.from(openssl('sha384', c), 'hex')])), 'hex');
    expect(Buffer.from(replayCcmr(l).get(0x0c)!.get(4)!).toString('hex')).toBe(mr.toString('hex'));
  });
  it('aicert eventlog --json: MRs apart from PCRs, unknown CEL content as hex', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aicert-ccmr-'));
    try {
      writeFileSync(join(dir, 'cel.bin'), log);
      const r = await runCli(['eventlog', join(dir, 'cel.bin'), '--json']);
      const doc = JSON.parse(r.out);
      expect(doc.pcrs).toEqual({});
      expect(Object.keys(doc.mrs.sha384)).toEqual(['4']);
      expect(doc.events[0].decoded.raw).toBe(Buffer.from('image-ref').toString('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('an MR index above 4 is malformed', () => {
    expect(() => parseEventLog(new Uint8Array(record(0, 5, Buffer.from('x'))))).toThrow(MalformedInputError);
  });
});
