/**
 * Regression tests for rows of the attack table (shared/reference/tpm-verifiers.md §8) that had no explicit test:
 * TPM reset/reboot replay (resetCount/restartCount/clock), fixedTPM in the AK attribute check, the PCR digest hash
 * (signature hash, not the bank hash) and exact nonce matching. Evidence is the committed swtpm set in
 * testvectors/quote; clockInfo and pcrDigest are read here by an independent TPMS_ATTEST walk (TPM 2.0 Part 2
 * §10.12.12), digests come from node:crypto, and mutated AK public areas are confirmed with tpm2_print when present.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { VerificationError } from '../src/errors.js';
import { verifyQuote, type VerifyQuoteInput, type VerifyQuoteOptions } from '../src/tpm/index.js';

const VEC = join(import.meta.dirname, '..', 'testvectors', 'quote');
const rd = (p: string): Uint8Array => new Uint8Array(readFileSync(join(VEC, p)));
const nonceOf = (dir: string): Uint8Array => new Uint8Array(Buffer.from(readFileSync(join(VEC, dir, 'nonce.hex'), 'utf8').trim(), 'hex'));
const input = (dir: string): VerifyQuoteInput => ({ attest: rd(`${dir}/quote.msg`), signature: rd(`${dir}/quote.sig`), akPublic: rd(`${dir}/ak.pub`), pcrs: rd(`${dir}/quote.pcrs`), nonce: nonceOf(dir) });
const hasPrint = spawnSync('sh', ['-c', 'command -v tpm2_print'], { stdio: 'ignore' }).status === 0;
if (!hasPrint) console.warn('NOTICE: tpm2_print not installed; the tpm2-tools confirmation of mutated AK attributes is skipped.');
const tmp = mkdtempSync(join(tmpdir(), 'aicert-attack-gaps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The VerificationError code verifyQuote rejects with, or 'valid'. */
async function codeOf(i: VerifyQuoteInput, o?: VerifyQuoteOptions): Promise<string> {
  try {
    await verifyQuote(i, o);
    return 'valid';
  } catch (e) {
    if (e instanceof VerificationError) return e.code;
    throw e;
  }
}

/** Independent walk of a quote TPMS_ATTEST: clockInfo and the quoted pcrDigest. */
function walkAttest(b: Uint8Array): { clock: bigint; resetCount: number; restartCount: number; pcrDigest: Buffer } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 6; // magic u32, type u16
  o += 2 + v.getUint16(o); // qualifiedSigner TPM2B_NAME
  o += 2 + v.getUint16(o); // extraData TPM2B_DATA
  const clock = v.getBigUint64(o);
  const resetCount = v.getUint32(o + 8);
  const restartCount = v.getUint32(o + 12);
  o += 17 + 8; // clock, resetCount, restartCount, safe, firmwareVersion
  const banks = v.getUint32(o);
  o += 4;
  for (let i = 0; i < banks; i++) o += 3 + v.getUint8(o + 2); // hash u16, sizeofSelect u8, pcrSelect
  const size = v.getUint16(o);
  return { clock, resetCount, restartCount, pcrDigest: Buffer.from(b.subarray(o + 2, o + 2 + size)) };
}

describe('TPM reset or reboot replay (keylime check_quote_timing): resetCount, restartCount, clock', () => {
  // ak-rsa and ak-ecc were quoted in that order by one swtpm boot (their clocks show the order).
  const first = walkAttest(rd('ak-rsa/quote.msg'));
  const later = walkAttest(rd('ak-ecc/quote.msg'));
  const prev = (c: typeof first, d: Partial<typeof first> = {}) => ({ resetCount: c.resetCount, restartCount: c.restartCount, clock: c.clock, ...d });

  test('the vectors are one boot with an advancing clock (precondition)', () => {
    expect([later.resetCount, later.restartCount]).toEqual([first.resetCount, first.restartCount]);
    expect(later.clock > first.clock).toBe(true);
  });

  test('a later quote of the same boot passes the clock check', async () => {
    const r = await verifyQuote(input('ak-ecc'), { previous: prev(first), akAttributesProvenBy: 'credential' });
    expect(r.checks.find((c) => c.id === 'clock')?.ok).toBe(true);
    expect(r.complete).toBe(true);
  });

  test('replaying the earlier quote after the later one is QUOTE_TIMING_REGRESSION (clock went back)', async () => {
    expect(await codeOf(input('ak-rsa'), { previous: prev(later) })).toBe('QUOTE_TIMING_REGRESSION');
  });

  test('a different resetCount or restartCount (reboot / resume) is QUOTE_TIMING_REGRESSION', async () => {
    expect(await codeOf(input('ak-ecc'), { previous: prev(first, { resetCount: first.resetCount + 1 }) })).toBe('QUOTE_TIMING_REGRESSION');
    expect(await codeOf(input('ak-ecc'), { previous: prev(first, { resetCount: first.resetCount - 1 }) })).toBe('QUOTE_TIMING_REGRESSION');
    expect(await codeOf(input('ak-ecc'), { previous: prev(first, { restartCount: first.restartCount + 1 }) })).toBe('QUOTE_TIMING_REGRESSION');
  });
});

describe('forged TPMS_ATTEST: the AK must be restricted AND fixedTPM (go-attestation CheckAKParameters)', () => {
  /** ak-rsa's TPM2B_PUBLIC with one objectAttributes bit cleared (u32 at offset 6: size u16, type u16, nameAlg u16). */
  const cleared = (bit: number): Uint8Array => {
    const pub = rd('ak-rsa/ak.pub');
    const v = new DataView(pub.buffer, pub.byteOffset, pub.byteLength);
    expect(v.getUint32(6) & bit).toBe(bit);
    v.setUint32(6, v.getUint32(6) & ~bit);
    return pub;
  };
  for (const [name, bit, flag] of [['fixedTPM', 1 << 1, 'fixedtpm'], ['restricted', 1 << 16, 'restricted']] as const) {
    test(`the genuine ak-rsa quote with ${name} cleared in ak.pub is AK_NOT_RESTRICTED_SIGNING`, async () => {
      const pub = cleared(bit);
      if (hasPrint) {
        // tpm2-tools confirms the single change: the flag is gone, everything else the same.
        const f = join(tmp, `${name}.pub`);
        writeFileSync(f, pub);
        const out = spawnSync('tpm2_print', ['-t', 'TPM2B_PUBLIC', f], { encoding: 'utf8' }).stdout;
        const flags = /attributes:\s*\n\s*value: (\S+)/.exec(out)![1]!.split('|');
        expect(flags).not.toContain(flag);
        expect(flags).toContain('sign');
      }
      // The key material is untouched, so only the attribute rule can catch it.
      expect(await codeOf({ ...input('ak-rsa'), akPublic: pub })).toBe('AK_NOT_RESTRICTED_SIGNING');
      const lax = await verifyQuote({ ...input('ak-rsa'), akPublic: pub }, { requireRestricted: false });
      expect(lax.checks.find((c) => c.id === 'ak.attributes')?.ok).toBeNull();
      expect(lax.complete).toBe(false);
    });
  }
});

describe('wrong hash for the PCR digest: the signature hash is used, not the bank hash', () => {
  test('ak-ecc384 (ECDSA-SHA384 over sha256 PCRs): digest = sha384(PCR values), and it verifies', async () => {
    const { pcrDigest } = walkAttest(rd('ak-ecc384/quote.msg'));
    const values = rd('ak-ecc384/pcrs.values.bin');
    expect(pcrDigest.toString('hex')).toBe(createHash('sha384').update(values).digest('hex'));
    expect(pcrDigest.toString('hex')).not.toBe(createHash('sha256').update(values).digest('hex'));
    const r = await verifyQuote(input('ak-ecc384'), { akAttributesProvenBy: 'credential' });
    expect(r.checks.find((c) => c.id === 'pcrs.digest')?.ok).toBe(true);
    expect(r.complete).toBe(true);
  });
});

describe('nonce replay: qualifyingData must equal the fresh nonce exactly', () => {
  const n = nonceOf('ak-rsa');
  for (const [name, nonce] of [
    ['a prefix of it', n.subarray(0, n.length - 1)],
    ['it plus one byte', new Uint8Array([...n, 0])],
    ['empty', new Uint8Array(0)],
    ['its sha256', new Uint8Array(createHash('sha256').update(n).digest())],
  ] as const) {
    test(`the genuine ak-rsa quote against ${name} is NONCE_MISMATCH`, async () => {
      expect(await codeOf({ ...input('ak-rsa'), nonce })).toBe('NONCE_MISMATCH');
    });
  }
  test('without an expected nonce the quote is not complete (freshness unproven)', async () => {
    const { nonce: _n, ...rest } = input('ak-rsa');
    const r = await verifyQuote(rest);
    expect(r.checks.find((c) => c.id === 'nonce')?.ok).toBeNull();
    expect(r.complete).toBe(false);
  });
});
