/**
 * Attacks through the verifier's own inputs on the REAL demo AIBOM (testvectors/demo, made on swtpm): policy keys
 * that name Object.prototype members, an empty platform subject, allowed sets that intersect to nothing, nonce
 * spelling, and "__proto__" keys inside the document. Expected verdicts come from the demo's own golden files
 * (policy.json, written by the generator) and from the demo's own nonce.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { mergePolicies, parseContainers, parsePolicy, verifyAibom, type VerifyAibomOptions } from '../src/aibom/index.js';
import { MalformedInputError } from '../src/errors.js';

const DEMO = resolve(import.meta.dirname, '../testvectors/demo');
const have = existsSync(resolve(DEMO, 'aibom.json'));
if (!have) console.warn(`NOTICE: ${DEMO} absent (npm run vectors:aibom); policy input attacks skipped.`);
const rd = (f: string): Buffer => readFileSync(resolve(DEMO, f));

(have ? describe : describe.skip)('policy and option inputs cannot open or crash verifyAibom', () => {
  const doc = rd('aibom.json');
  const policy = JSON.parse(rd('policy.json').toString()) as Record<string, any>;
  const at = new Date(JSON.parse(rd('demo.json').toString()).generated_at ?? '2026-11-26T00:00:00Z');
  const opts = (o: Partial<VerifyAibomOptions> = {}): VerifyAibomOptions => ({ trustAnchors: [rd('trust-root.pem')], at, policy, ...o });
  const verdict = async (d: Uint8Array | string, o: Partial<VerifyAibomOptions> = {}) => {
    const r = await verifyAibom(d, opts(o));
    return { valid: r.valid, code: r.error?.code };
  };
  const images = Object.keys(policy.containers as object);

  test('control: the demo verifies with its golden policy', async () => {
    expect(await verdict(doc)).toEqual({ valid: true, code: undefined });
  });

  test('container names "constructor", "__proto__", "toString" are plain keys (was: TypeError from mergePolicies)', async () => {
    const id = 'sha256:' + '0'.repeat(64);
    const text = JSON.stringify(policy).replace('"containers":{', `"containers":{"constructor":"${id}","__proto__":"${id}","toString":"${id}",`);
    expect(await verdict(doc, { policy: text })).toEqual({ valid: true, code: undefined });
    const merged = mergePolicies([{ containers: parseContainers(`{"__proto__": "${id}", "constructor": ["${id}"]}`) }, { containers: parseContainers({ constructor: id }) }]);
    // Every source must allow an image: "__proto__" is listed by one source only, so it is allowed by none.
    expect(Object.keys(merged.containers!).sort()).toEqual(['constructor']);
    expect(merged.containers!['__proto__']).toBeUndefined();
    expect(parseContainers(`{"__proto__": "${id}"}`)['__proto__']).toEqual([id]);
    // A name the policy does not list has no inherited entry.
    expect(merged.containers!['hasOwnProperty']).toBeUndefined();
    // The demo's real images are still judged: dropping one from the list is refused.
    const fewer = { ...policy, containers: { constructor: id, [images[0]!]: policy.containers[images[0]!] } };
    expect(await verdict(doc, { policy: fewer })).toEqual({ valid: false, code: 'CONTAINER_NOT_ALLOWED' });
  });

  test('an empty platform subject would match every AK subject: refused as malformed (was: valid)', async () => {
    expect(await verdict(doc, { policy: { ...policy, platformSubjects: ['.TrustedVM.Azure.Microsoft'] } })).toEqual({ valid: false, code: 'PLATFORM_NOT_ALLOWED' });
    await expect(verifyAibom(doc, opts({ policy: { ...policy, platformSubjects: ['.TrustedVM.Azure.Microsoft', ''] } }))).rejects.toBeInstanceOf(MalformedInputError);
    expect(() => parsePolicy({ platformSubjects: [''] })).toThrow(MalformedInputError);
  });

  test('allowed sets from two sources that intersect to nothing allow nothing (policy with an empty allowed set)', async () => {
    const other = 'ab'.repeat(32);
    expect(await verdict(doc, { measurements: { measurements: { '0': other } } })).toEqual({ valid: false, code: 'PCR_VALUE_NOT_ALLOWED' });
    const img = images[0]!;
    expect(await verdict(doc, { containers: { [img]: 'sha256:' + other } })).toEqual({ valid: false, code: 'CONTAINER_NOT_ALLOWED' });
    expect(() => parsePolicy({ pcrs: { sha256: { '0': [] } } })).toThrow(MalformedInputError);
  });

  test('nonce: uppercase or 0x hex equals the bound nonce; one changed nibble does not', async () => {
    const n = (JSON.parse(doc.toString()) as { evidence: { nonce: string } }).evidence.nonce;
    expect(await verdict(doc, { nonce: n.toUpperCase() })).toEqual({ valid: true, code: undefined });
    expect(await verdict(doc, { nonce: '0x' + n })).toEqual({ valid: true, code: undefined });
    const flipped = (n[0] === '0' ? '1' : '0') + n.slice(1);
    expect(await verdict(doc, { nonce: flipped.toUpperCase() })).toEqual({ valid: false, code: 'NONCE_MISMATCH' });
  });

  test('"__proto__" keys in the document are unknown fields: ignored, nothing inherited, Object.prototype untouched', async () => {
    const d = JSON.parse(doc.toString()) as Record<string, unknown>;
    const text = JSON.stringify(d).replace('"evidence":{', '"__proto__":{"evidence":{}},"evidence":{"__proto__":{"nonce":"00"},');
    expect(text).toContain('"__proto__":{"nonce"');
    expect(await verdict(text)).toEqual({ valid: true, code: undefined });
    expect(({} as Record<string, unknown>).nonce).toBeUndefined();
    // appEventLog itself refuses any key but "14" and "8", "__proto__" included.
    const bad = JSON.stringify(d).replace('"appEventLog":{', '"appEventLog":{"__proto__":[],');
    await expect(verifyAibom(bad, opts())).rejects.toBeInstanceOf(MalformedInputError);
  });
});
