/**
 * Attacks on golden boot events (policy.bootEvents, spec/policy.md) with the REAL measured boot in testvectors/boot/out
 * (QEMU/OVMF + swtpm, made by testvectors/boot/gen-boot.sh): a rule may only be judged on events whose PCR replayed to
 * the quote, in a bank the quote covers. Attack table rows: "quote over some or none of the PCRs" (a PCR whose events
 * were stripped is never compared) and "event in one bank only; any bank passes" (a rule on an unquoted bank).
 * Independent evidence: PCR values from tpm2_pcrread (pcrs.json), Authenticode digests from pesign
 * (authenticode.json), event records walked here (TCG PFP r1.06 §10.2.2) and hashed with node:crypto.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parsePolicy } from '../src/aibom/policy.js';
import { Report, type Ctx } from '../src/aibom/report.js';
import { stepBootLog } from '../src/aibom/steps/logs.js';
import { stepPolicy } from '../src/aibom/steps/policy.js';
import { PolicyError, VerificationError } from '../src/errors.js';
import { verifyQuote, type QuoteVerification } from '../src/tpm/index.js';

const BOOT = resolve(import.meta.dirname, '../testvectors/boot/out');
const have = existsSync(resolve(BOOT, 'binary_bios_measurements'));
if (!have) console.warn(`NOTICE: ${BOOT} absent (npm run vectors:boot); boot-event policy attacks skipped.`);
const rd = (f: string): Buffer => readFileSync(resolve(BOOT, f));
const SHA1 = 0x04;
const SHA256 = 0x0b;
const sha = (alg: string, b: Uint8Array | string): string => createHash(alg).update(b).digest('hex');

/** One TCG_PCR_EVENT2 record: where it is, and where each digest sits (crypto-agile log, sha1 + sha256 SpecID). */
interface Rec {
  pcr: number;
  type: number;
  start: number;
  end: number;
  digests: Map<number, { at: number; hex: string }>;
}

/** Independent walk of a crypto-agile log: SpecID sizes, then every event record with its byte range. */
function records(b: Buffer): Rec[] {
  const n = b.readUInt32LE(56);
  const sizes = new Map<number, number>();
  for (let i = 0; i < n; i++) sizes.set(b.readUInt16LE(60 + 4 * i), b.readUInt16LE(62 + 4 * i));
  let o = 32 + b.readUInt32LE(28);
  const out: Rec[] = [];
  while (o < b.length) {
    const start = o;
    const pcr = b.readUInt32LE(o);
    const type = b.readUInt32LE(o + 4);
    const count = b.readUInt32LE(o + 8);
    o += 12;
    const digests = new Map<number, { at: number; hex: string }>();
    for (let i = 0; i < count; i++) {
      const alg = b.readUInt16LE(o);
      const size = sizes.get(alg)!;
      digests.set(alg, { at: o + 2, hex: b.subarray(o + 2, o + 2 + size).toString('hex') });
      o += 2 + size;
    }
    o += 4 + b.readUInt32LE(o);
    out.push({ pcr, type, start, end: o, digests });
  }
  return out;
}

(have ? describe : describe.skip)('golden boot events are judged only on events the quote verified', async () => {
  const log = rd('binary_bios_measurements');
  const recs = records(log);
  const pcr4 = recs.filter((r) => r.pcr === 4);
  const pcrread = JSON.parse(rd('pcrs.json').toString()) as Record<'sha1' | 'sha256', Record<string, string>>;
  const auth = JSON.parse(rd('authenticode.json').toString()) as Record<string, string>;
  const nonce = new Uint8Array(Buffer.from(rd('nonce.hex').toString().trim(), 'hex'));
  const quote = (name: string): Promise<QuoteVerification> =>
    verifyQuote({ attest: rd(`${name}.msg`), signature: rd(`${name}.sig`), akPublic: rd('ak.pub'), pcrs: rd(`${name}.pcrs`), nonce });
  // quote-all: sha256:0-23 only; quote: sha1+sha256 over 0-7,9,11 (manifest "quotes").
  const sha256Only = await quote('quote-all');
  const bothBanks = await quote('quote');
  // PCR 4 as OVMF measures it: EV_EFI_ACTION "Calling EFI Application from Boot Option", separator, UKI, kernel.
  const golden4 = [sha('sha256', 'Calling EFI Application from Boot Option'), sha('sha256', Buffer.alloc(4)), auth['uki.efi']!, auth['vmlinuz']!];

  /** Runs the boot-log and policy steps of verifyAibom on a log and the verified quote: 'pass' or the error code. */
  async function judge(logBytes: Uint8Array, policy: object, q: QuoteVerification = sha256Only): Promise<string> {
    const ctx: Ctx = {
      opts: {},
      rep: new Report({}),
      warnings: [],
      claims: {},
      policy: parsePolicy(policy),
      ev: { format: 'aibom-v1', simulation: false, app: { pcr14: [], pcr8: [] }, bootEventLog: new Uint8Array(logBytes), warnings: [] },
      facts: { events: [], images: [], models: [], datasets: [], finetuneSeconds: [], totalFlos: [] },
      quote: q,
      quoted: q.pcrs!,
    };
    try {
      await stepBootLog(ctx);
      stepPolicy(ctx);
      return 'pass';
    } catch (e) {
      if (e instanceof VerificationError || e instanceof PolicyError) return e.code;
      throw e;
    }
  }
  const without = (drop: (r: Rec) => boolean): Buffer => {
    const kept: Buffer[] = [log.subarray(0, recs[0]!.start)];
    for (const r of recs) if (!drop(r)) kept.push(log.subarray(r.start, r.end));
    return Buffer.concat(kept);
  };

  test('preconditions: the walked PCR 4 events are the pesign/OVMF digests and the quotes hold tpm2_pcrread values', () => {
    expect(pcr4.map((r) => r.digests.get(SHA256)!.hex)).toEqual(golden4);
    expect(Buffer.from(sha256Only.pcrs!.get(SHA256)!.get(4)!).toString('hex')).toBe(pcrread.sha256['4']);
    expect(pcrread.sha256['4']).not.toBe('00'.repeat(32));
    expect(sha256Only.pcrs!.has(SHA1)).toBe(false);
    expect(Buffer.from(bothBanks.pcrs!.get(SHA1)!.get(4)!).toString('hex')).toBe(pcrread.sha1['4']);
  });

  test('control: the genuine log passes the golden PCR 4 sequence and fails a foreign subset', async () => {
    expect(await judge(log, { bootEvents: { '4': { sha256: golden4 } } })).toBe('pass');
    expect(await judge(log, { bootEvents: { '4': { match: 'subset', sha256: ['11'.repeat(32)] } } })).toBe('BOOT_EVENT_NOT_ALLOWED');
  });

  test('PCR 4 events stripped from the log: a subset or empty-sequence rule no longer passes vacuously (was: pass)', async () => {
    const stripped = without((r) => r.pcr === 4);
    expect(records(stripped).some((r) => r.pcr === 4)).toBe(false);
    // The quote says PCR 4 = pcrread value, which an empty event list (start value zero) cannot explain.
    expect(await judge(stripped, { bootEvents: { '4': { match: 'subset', sha256: ['11'.repeat(32)] } } })).toBe('PCR_REPLAY_MISMATCH');
    expect(await judge(stripped, { bootEvents: { '4': { sha256: [] } } })).toBe('PCR_REPLAY_MISMATCH');
  });

  test('sha1 digests forged while the quote covers sha256 only: a sha1 rule is refused (was: pass)', async () => {
    const forged = Buffer.from(log);
    const fake = pcr4.map((_, i) => Buffer.alloc(20, 0x20 + i));
    pcr4.forEach((r, i) => fake[i]!.copy(forged, r.digests.get(SHA1)!.at));
    const rule = { bootEvents: { '4': { sha1: fake.map((f) => f.toString('hex')) } } };
    expect(await judge(forged, rule)).toBe('PCR_NOT_QUOTED');
    // With a quote over both banks the forged sha1 chain is caught by replay, and the genuine one passes.
    expect(await judge(forged, rule, bothBanks)).toBe('PCR_REPLAY_MISMATCH');
    expect(await judge(log, { bootEvents: { '4': { sha1: pcr4.map((r) => r.digests.get(SHA1)!.hex) } } }, bothBanks)).toBe('pass');
  });

  test('a rule on an app PCR is judged on boot events nobody verified: refused (was: pass)', async () => {
    // Append a copy of the PCR 4 EV_EFI_ACTION record re-indexed to PCR 14; the quoted PCR 14 is still zero.
    const extra = Buffer.from(log.subarray(pcr4[0]!.start, pcr4[0]!.end));
    extra.writeUInt32LE(14, 0);
    const injected = Buffer.concat([log, extra]);
    expect(pcrread.sha256['14']).toBe('00'.repeat(32));
    expect(await judge(injected, { bootEvents: { '14': { sha256: [golden4[0]!] } } })).toBe('PCR_NOT_QUOTED');
  });
});
