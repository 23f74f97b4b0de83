/**
 * AK-key attacks on genuine swtpm evidence: a CA-certifiable RSA-1024 AK made by swtpm (started here, stopped by
 * PID), ECDSA r/s sent longer than the curve size (a leading zero byte on the committed ECC quote), and AK
 * attributes that only the document states (a public area is signed by nothing). spec/verification.md §Quote.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VerificationError } from '../src/errors.js';
import { verifyQuote } from '../src/tpm/quote.js';
import { startSwtpm, swtpmAvailable, type Swtpm } from './helpers/swtpm.js';
import { outcome } from './helpers/outcome.js';

const run = promisify(execFile);
const Q = resolve(import.meta.dirname, '../testvectors/quote');
const rd = (f: string): Uint8Array => new Uint8Array(readFileSync(join(Q, f)));

const code = (p: Promise<unknown>): Promise<string> => outcome(p, 'valid');

const ecc = () => ({ attest: rd('ak-ecc/quote.msg'), signature: rd('ak-ecc/quote.sig'), akPublic: rd('ak-ecc/ak.pub'), pcrs: rd('ak-ecc/quote.pcrs') });

/** TPMT_SIGNATURE (ECDSA) with `pad` zero bytes put in front of r (and its TPM2B size raised to match). */
function padR(sig: Uint8Array, pad: number): Uint8Array {
  const v = new DataView(sig.buffer, sig.byteOffset, sig.byteLength);
  const rLen = v.getUint16(4);
  const out = new Uint8Array(sig.length + pad);
  out.set(sig.subarray(0, 4));
  new DataView(out.buffer).setUint16(4, rLen + pad);
  out.set(sig.subarray(6), 6 + pad);
  return out;
}

describe('ECDSA r/s longer than the curve size fail (class: lenient signature encoding)', () => {
  test('control: the genuine P-256 quote verifies; r with one leading zero byte (33 bytes) does not (was: valid)', async () => {
    const sig = rd('ak-ecc/quote.sig');
    expect(new DataView(sig.buffer, sig.byteOffset).getUint16(4)).toBeLessThanOrEqual(32);
    expect(await code(verifyQuote(ecc()))).toBe('valid');
    expect(await code(verifyQuote({ ...ecc(), signature: padR(sig, 1) }))).toBe('SIGNATURE_INVALID');
    expect(await code(verifyQuote({ ...ecc(), signature: padR(sig, 40) }))).toBe('SIGNATURE_INVALID');
  });
});

describe('AK attributes only the document states are never a passed check (class: unproven property)', () => {
  test('a TPM public area without certificate or activation: ak.attributes is not ok, its source is the document', async () => {
    const r = await verifyQuote(ecc());
    const c = r.checks.find((x) => x.id === 'ak.attributes')!;
    expect(c.ok).toBeNull();
    expect(c.source).toBe('document');
    expect(c.detail).toMatch(/not proven/);
    expect(r.complete).toBe(false);
    // The caller who ran a credential activation says so, and the source is named.
    const p = (await verifyQuote(ecc(), { akAttributesProvenBy: 'credential' })).checks.find((x) => x.id === 'ak.attributes')!;
    expect(p).toMatchObject({ ok: true, source: 'credential' });
  });
});

const live = swtpmAvailable();
(live ? describe : describe.skip)('minimum AK key size (class: weak AK)', () => {
  let tpm: Swtpm;
  let dir: string;
  beforeAll(async () => {
    tpm = await startSwtpm();
    dir = tpm.dir;
    const t = (cmd: string, args: string[]) => run(cmd, args, { env: tpm.env, cwd: dir });
    await t('tpm2_createprimary', ['-C', 'o', '-g', 'sha256', '-G', 'rsa2048', '-c', 'primary.ctx']);
    await t('tpm2_create', ['-C', 'primary.ctx', '-G', 'rsa1024:rsassa-sha256:null', '-a', 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign', '-u', 'ak.pub', '-r', 'ak.priv']);
    // No resource manager on a raw swtpm socket: free transient slots between commands.
    await t('tpm2_flushcontext', ['-t']);
    await t('tpm2_load', ['-C', 'primary.ctx', '-u', 'ak.pub', '-r', 'ak.priv', '-c', 'ak.ctx']);
    await t('tpm2_flushcontext', ['-t']);
    await t('tpm2_quote', ['-c', 'ak.ctx', '-l', 'sha256:0,1', '-q', '00112233', '-m', 'quote.msg', '-s', 'quote.sig', '-o', 'quote.pcrs', '-g', 'sha256']);
  }, 60_000);
  afterAll(async () => tpm?.stop());

  test('an RSA-1024 AK quote from swtpm is refused by default (was: valid), accepted only when relaxed, and the relaxation is shown', async () => {
    const f = (n: string): Uint8Array => new Uint8Array(readFileSync(join(dir, n)));
    const input = { attest: f('quote.msg'), signature: f('quote.sig'), akPublic: f('ak.pub'), pcrs: f('quote.pcrs'), nonce: new Uint8Array([0, 0x11, 0x22, 0x33]) };
    let err: VerificationError | undefined;
    await verifyQuote(input).catch((e: VerificationError) => (err = e));
    expect(err?.code).toBe('KEY_TOO_SMALL');
    expect(err?.message).toMatch(/RSA-1024.*RSA-2048/);
    const r = await verifyQuote(input, { minRsaBits: 1024 });
    expect(r.checks.find((c) => c.id === 'signature')?.ok).toBe(true);
    expect(r.checks.find((c) => c.id === 'ak.keySize')).toMatchObject({ ok: true, detail: expect.stringMatching(/relaxed by option to RSA-1024/) });
  });
});
