// Real third-party evidence: the Windows Server quote from a GCE Shielded VM (go-attestation testdata), RSA with a
// SHA-1 signature over SHA-1 PCRs 0-23 and an empty nonce. Expected PCRs come from go-attestation's JSON.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { VerificationError } from '../src/errors.js';
import { parseTcgLog, verifyLog } from '../src/eventlog/index.js';
import { parseTpmtPublic, pcrValuesFromJson, verifyQuote, type PcrValues } from '../src/tpm/index.js';
import { concat } from '../src/util/bytes.js';
import { run as quoteCli } from '../src/cli/cmd-quote.js';
import { captureStdout } from './helpers/quote-cases.js';
import { vectorsDir } from './helpers/vectors.js';

const V = vectorsDir();
const base = V ? join(V, 'go-attestation', 'windows_gcp_shielded_vm') : '';
const have = V !== undefined && existsSync(`${base}.Quote.tpms_attest`);
const hasCheckquote = spawnSync('sh', ['-c', 'command -v tpm2_checkquote'], { stdio: 'ignore' }).status === 0;
if (have && !hasCheckquote) console.warn('NOTICE: tpm2_checkquote not installed (apt-get install tpm2-tools); the Windows quote cross-check is skipped.');

describe.skipIf(!have)('Windows GCE Shielded VM quote (go-attestation)', () => {
  let attest: Uint8Array, signature: Uint8Array, akPublic: Uint8Array, pcrs: PcrValues;
  beforeAll(() => {
    const rd = (s: string) => new Uint8Array(readFileSync(`${base}${s}`));
    attest = rd('.Quote.tpms_attest');
    signature = rd('.Quote.tpmt_signature');
    akPublic = rd('.AK.Public.tpmt_public');
    pcrs = pcrValuesFromJson(JSON.parse(readFileSync(`${base}.expected_pcrs.json`, 'utf8')).banks);
  });

  test('valid with SHA-1 explicitly allowed, nonce empty, PCRs from go-attestation', async () => {
    const r = await verifyQuote({ attest, signature, akPublic, pcrs, nonce: new Uint8Array(0) }, { allowSha1: true });
    // No certificate or activation proves the AK's attributes: everything else passes, that one is the document's word.
    expect(r.checks.filter((c) => c.ok !== true).map((c) => [c.id, c.source])).toEqual([['ak.attributes', 'document']]);
    expect(r.complete).toBe(false);
    expect(r.signature).toMatchObject({ scheme: 'rsassa', hashAlg: 0x0004 });
    // PCRs 17-22 are quoted at their reset value 0xff..ff.
    expect([...r.pcrs!.get(0x0004)!.get(17)!].every((b) => b === 0xff)).toBe(true);
  });

  test('refused without allowSha1 (HASH_NOT_ALLOWED)', async () => {
    await expect(verifyQuote({ attest, signature, akPublic, pcrs, nonce: new Uint8Array(0) })).rejects.toMatchObject({ code: 'HASH_NOT_ALLOWED' });
  });

  test('the AK is a restricted, fixedTPM signing key', () => {
    const p = parseTpmtPublic(akPublic);
    expect(p.attributes).toMatchObject({ restricted: true, sign: true, fixedTPM: true, decrypt: false });
  });

  test('a non-empty nonce is refused (NONCE_MISMATCH)', async () => {
    const e = await verifyQuote({ attest, signature, akPublic, pcrs, nonce: new Uint8Array([1]) }, { allowSha1: true }).catch((x) => x);
    expect(e).toBeInstanceOf(VerificationError);
    expect(e.code).toBe('NONCE_MISMATCH');
  });

  test('the Windows event log replays to the quoted PCRs (only verified events are returned)', async () => {
    const r = await verifyQuote({ attest, signature, akPublic, pcrs, nonce: new Uint8Array(0) }, { allowSha1: true });
    const log = parseTcgLog(new Uint8Array(readFileSync(`${base}.Log.Raw.bin`)));
    const v = verifyLog(log, r.pcrs!);
    expect(v.pcrs.length).toBeGreaterThanOrEqual(8);
    expect(v.events.length).toBeGreaterThan(0);
  });

  test.skipIf(!hasCheckquote)('aicert quote and tpm2_checkquote agree (signature, nonce, PCR digest)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aicert-win-'));
    // tpm2_checkquote takes TPM2B_PUBLIC: prefix the TPMT_PUBLIC with its size.
    const tpm2b = concat(new Uint8Array([akPublic.length >> 8, akPublic.length & 0xff]), akPublic);
    writeFileSync(join(dir, 'ak.pub'), tpm2b);
    const values = concat(...[...pcrs.get(0x0004)!.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v));
    writeFileSync(join(dir, 'pcrs.bin'), values);
    const cq = spawnSync('tpm2_checkquote', ['-u', join(dir, 'ak.pub'), '-m', `${base}.Quote.tpms_attest`, '-s', `${base}.Quote.tpmt_signature`, '-g', 'sha1'], { encoding: 'utf8' });
    const ours = await captureStdout(() =>
      quoteCli(['--ak', join(dir, 'ak.pub'), '--message', `${base}.Quote.tpms_attest`, '--signature', `${base}.Quote.tpmt_signature`, '--pcrs', join(dir, 'pcrs.bin'), '--nonce', '', '--allow-sha1']),
    );
    expect(cq.status).toBe(0);
    expect(ours.code).toBe(0);
    const noSha1 = await captureStdout(() => quoteCli(['--ak', join(dir, 'ak.pub'), '--message', `${base}.Quote.tpms_attest`, '--signature', `${base}.Quote.tpmt_signature`]));
    expect(noSha1.code).toBe(1);
  });
});
