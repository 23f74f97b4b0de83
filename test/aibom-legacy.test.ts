/**
 * verifyAibom on original-format attestation.json documents assembled from REAL swtpm quotes (testvectors/quote).
 * Expected PCR values: tpm2_pcrread output in the manifest, and an independent node:crypto replay of the events.
 */
import { describe, expect, test } from 'vitest';
import { verifyAibom } from '../src/aibom/index.js';
import { MalformedInputError } from '../src/errors.js';
import { legacyDoc, measurementsOf, qfile, quoteManifest, replayHex, sha256hex, vectorEvents } from './helpers/aibom-fixtures.js';

const m = quoteManifest();
const d = m ? describe : describe.skip;

d('original attestation.json on real swtpm quotes', () => {
  const M = m!;
  const base = () => ({ trustAnchors: [qfile('ca/root.pem')], at: new Date(M.generated_at), measurements: measurementsOf(M, [0, 1, 2, 3, 4, 5, 6, 7]), containers: {} });
  const codeOf = async (doc: unknown, opts = base()) => (await verifyAibom(doc as object, opts)).error?.code;

  test('fixture sanity: the events replay (node:crypto) to the PCRs tpm2_pcrread reported', () => {
    expect(replayHex(vectorEvents(M, 14))).toBe(M.pcrs.sha256['14']);
    expect(replayHex(vectorEvents(M, 8))).toBe(M.pcrs.sha256['8']);
    expect(replayHex([Buffer.from(sha256hex(vectorEvents(M, 15)[0]!), 'hex')].map((x) => x))).not.toBe(M.pcrs.sha256['15']);
  });

  test.each(['ak-rsa', 'ak-ecc', 'ak-ecc384'])('%s: valid with golden PCRs, containers and its trust root', async (dir) => {
    const r = await verifyAibom(JSON.stringify(legacyDoc(M, dir)), base());
    expect(r.error).toBeUndefined();
    expect(r.valid).toBe(true);
    const ids = r.checks.map((c) => c.id);
    for (const id of ['document', 'ak.certificate', 'quote.signature', 'quote.pcrs.digest', 'ak.binding', 'applog.pcr14', 'applog.pcr8', 'applog.pcr15', 'policy.pcrs', 'policy.containers', 'claims']) expect(ids).toContain(id);
    expect(r.checks.find((c) => c.id === 'applog.pcr14')).toMatchObject({ ok: true });
    // The test CA is not an Azure root: the Azure-looking CN gives no platform claim (only the subject).
    expect(r.claims.platform?.description).not.toMatch(/Azure Trusted Launch VM/);
    expect(r.claims.platform?.azureVmId).toBeUndefined();
    expect(r.claims.tlsCertificateSha256).toBe(sha256hex(vectorEvents(M, 15)[0]!));
    expect(r.warnings.some((w) => /no nonce|not an aicert event/.test(w))).toBe(true);
  });

  test('missing policy is never silently valid; allowUncheckedPlatform accepts it explicitly', async () => {
    const opts = { trustAnchors: [qfile('ca/root.pem')], at: new Date(M.generated_at) };
    const r = await verifyAibom(legacyDoc(M), opts);
    expect(r.valid).toBe(false);
    expect(r.error).toBeUndefined();
    expect(r.unchecked).toEqual(['policy.platform', 'policy.containers']);
    expect(r.checks.find((c) => c.id === 'policy.platform')?.ok).toBeNull();
    expect((await verifyAibom(legacyDoc(M), { ...opts, allowUncheckedPlatform: true })).valid).toBe(true);
  });

  test('--nonce is a raw qualifying-data comparison', async () => {
    const ok = await verifyAibom(legacyDoc(M), { ...base(), nonce: M.nonce });
    expect(ok.valid).toBe(true);
    expect(ok.checks.find((c) => c.id === 'nonce')).toMatchObject({ ok: true });
    expect(await codeOf(legacyDoc(M), { ...base(), nonce: 'ff' + M.nonce.slice(2) } as never)).toBe('NONCE_MISMATCH');
  });

  test('tampered, reordered, added and dropped app events are PCR_REPLAY_MISMATCH', async () => {
    const ev = vectorEvents(M, 14);
    const variants = [
      [ev[0]!.replace('launch', 'lunch'), ...ev.slice(1)],
      [ev[1]!, ev[0]!, ...ev.slice(2)],
      ev.slice(1),
      [...ev, ev[0]!],
    ];
    for (const v of variants) expect(await codeOf({ ...legacyDoc(M), event_log: v })).toBe('PCR_REPLAY_MISMATCH');
    expect(await codeOf({ ...legacyDoc(M), output_event_log: [] })).toBe('PCR_REPLAY_MISMATCH');
    expect(await codeOf({ ...legacyDoc(M), ca_cert: qfile('ca/untrusted-root.pem').toString() })).toBe('PCR_REPLAY_MISMATCH');
  });

  test('golden values and containers that do not match are policy failures', async () => {
    const bad = { measurements: { ...measurementsOf(M, [0]).measurements, '0': 'aa'.repeat(32) } };
    expect(await codeOf(legacyDoc(M), { ...base(), measurements: bad })).toBe('PCR_VALUE_NOT_ALLOWED');
  });

  test('trust: untrusted root, the default Azure root, and an expired chain time', async () => {
    expect(await codeOf(legacyDoc(M), { ...base(), trustAnchors: [qfile('ca/untrusted-root.pem')] })).toBe('CERT_UNTRUSTED_ROOT');
    const { trustAnchors: _t, ...noAnchor } = base();
    expect(await codeOf(legacyDoc(M), noAnchor as never)).toBe('CERT_UNTRUSTED_ROOT');
    expect(await codeOf(legacyDoc(M), { ...base(), at: new Date('2040-01-01T00:00:00Z') })).toBe('CERT_EXPIRED');
  });

  test('a quote over PCRs 0-13 only cannot vouch for app events (PCR_NOT_QUOTED)', async () => {
    expect(await codeOf(legacyDoc(M, 'ak-rsa-sel0-13', 'ak-rsa'))).toBe('PCR_NOT_QUOTED');
  });

  test('simulation mode is never valid unless allowSimulation', async () => {
    const sim = { ca_cert: '', event_log: [], output_event_log: [], remote_attestation: { simulation_mode: true } };
    expect(await codeOf(sim)).toBe('SIMULATION_MODE');
    const r = await verifyAibom(sim, { ...base(), allowSimulation: true });
    expect(r.valid).toBe(true);
    expect(r.claims.simulation).toBe(true);
    expect(r.warnings.join()).toMatch(/SIMULATION MODE/);
  });

  test('malformed documents throw MalformedInputError', async () => {
    const text = JSON.stringify(legacyDoc(M));
    for (const bad of [text.slice(0, text.length / 2), '{"remote_attestation": {"quote": 1}}', text.replace(/"base64":"([A-Za-z0-9+/])/, '"base64":"!$1'), text.replace(/"base64":"([^"]+)"/, '"base64":"$1\\n"'), '[]', '{}']) {
      await expect(verifyAibom(bad, base())).rejects.toBeInstanceOf(MalformedInputError);
    }
    const dup = text.replace('{"ca_cert"', '{"ca_cert": "", "ca_cert"');
    await expect(verifyAibom(dup, base())).rejects.toThrow(/duplicate key/);
  });
});
