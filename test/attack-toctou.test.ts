/**
 * Time-of-check attacks on the REAL swtpm quote vectors (testvectors/quote, made by gen-quote.sh with tpm2-tools):
 * inputs changed while verification awaits (WebCrypto signature check, AK chain), and returned "trusted" PCR values
 * that still alias the caller's objects. spec/verification.md §2: "The inputs are copied before any asynchronous step."
 * PCR values are read by an independent walk of the tpm2-tools PCR file (test/helpers/aibom-fixtures.ts pcrsOfCase)
 * and checked against tpm2_pcrread values in the vectors' manifest.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { verifyAibom } from '../src/aibom/index.js';
import { VerificationError } from '../src/errors.js';
import { verifyAkQuote, verifyQuote, type VerifyQuoteInput } from '../src/tpm/index.js';
import { AIBOM_DIR, pcrsOfCase, qfile, quoteManifest } from './helpers/aibom-fixtures.js';

const m = quoteManifest();
const SHA256 = 0x0b;

/** Outcome of a pending verification: 'valid' or the VerificationError code. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'valid';
  } catch (e) {
    if (e instanceof VerificationError) return e.code;
    throw e;
  }
}

(m ? describe : describe.skip)('inputs are snapshotted before the first await; results do not alias inputs', () => {
  const dir = 'ak-rsa';
  const genuine = (): Map<number, Map<number, Uint8Array>> => new Map([[SHA256, new Map(Object.entries(pcrsOfCase(dir)).map(([k, v]) => [Number(k), new Uint8Array(Buffer.from(v, 'hex'))]))]]);
  const forged = (): Map<number, Map<number, Uint8Array>> => {
    const p = genuine();
    p.get(SHA256)!.set(0, new Uint8Array(32).fill(0x41));
    return p;
  };
  const nonce = (): Uint8Array => new Uint8Array(Buffer.from(qfile(`${dir}/nonce.hex`).toString().trim(), 'hex'));
  const input = (pcrs = genuine()): VerifyQuoteInput => ({ attest: qfile(`${dir}/quote.msg`), signature: qfile(`${dir}/quote.sig`), akPublic: qfile(`${dir}/ak.pub`), pcrs, nonce: nonce() });

  test('precondition: the independent PCR walk equals tpm2_pcrread and the vector verifies', async () => {
    for (const [k, v] of Object.entries(pcrsOfCase(dir))) expect(v).toBe(m!.pcrs.sha256[k]);
    expect(await outcome(verifyQuote(input()))).toBe('valid');
  });

  test('result.pcrs is a copy: mutating the caller\'s Map after verification does not change the verified values (was: aliased)', async () => {
    const i = input();
    const r = await verifyQuote(i);
    expect(r.pcrs).not.toBe(i.pcrs);
    (i.pcrs as Map<number, Map<number, Uint8Array>>).get(SHA256)!.get(0)!.fill(0x41);
    expect(Buffer.from(r.pcrs!.get(SHA256)!.get(0)!).toString('hex')).toBe(m!.pcrs.sha256['0']);
  });

  test('forged PCRs or nonce at call time stay forged: swapping them during the await does not make the quote pass (was: valid)', async () => {
    const i = input(forged());
    const p = verifyQuote(i);
    i.pcrs = genuine();
    expect(await outcome(p)).toBe('PCR_DIGEST_MISMATCH');
    const j = input();
    j.nonce = new Uint8Array(j.nonce!.length);
    const wrongNonce = j.nonce;
    const q = verifyQuote(j);
    wrongNonce.set(nonce());
    expect(await outcome(q)).toBe('NONCE_MISMATCH');
    // And the reverse: genuine at call time is judged as given.
    const k = input();
    const r = verifyQuote(k);
    k.pcrs = forged();
    k.nonce!.fill(0);
    expect(await outcome(r)).toBe('valid');
  });

  test('verifyAkQuote: the quote inputs are fixed at call time, not after the chain check (was: read after the await)', async () => {
    const opts = { trustAnchors: [qfile('ca/root.pem')], at: new Date(m!.generated_at) };
    const certs = [qfile(`${dir}/ak.crt.der`), qfile('ca/intermediate.der')];
    expect(await outcome(verifyAkQuote({ ...input(), akCertificates: certs }, opts))).toBe('valid');
    const i = { ...input(forged()), akCertificates: certs };
    const p = verifyAkQuote(i, opts);
    i.pcrs = genuine();
    expect(await outcome(p)).toBe('PCR_DIGEST_MISMATCH');
  });

  test('verifyAibom: a document object mutated after the call is verified as it was at call time', async () => {
    const rd = (f: string): Buffer => readFileSync(`${AIBOM_DIR}/${f}`);
    const man = JSON.parse(rd('manifest.json').toString()) as { generated_at: string };
    const doc = JSON.parse(rd('aibom.json').toString()) as { evidence: { appEventLog: Record<string, string[]> } };
    const opts = { trustAnchors: [rd('ca/root.pem')], at: new Date(man.generated_at), allowUncheckedPlatform: true };
    const p = verifyAibom(doc, opts);
    doc.evidence.appEventLog['14']!.reverse();
    expect((await p).valid).toBe(true);
    const r = await verifyAibom(doc, opts);
    expect(r.error?.code).toBe('PCR_REPLAY_MISMATCH');
  });
});
