/**
 * An outputs event that lists one file twice (attack idea: "an outputs event listing a file twice"), built from the
 * REAL demo outputs event (testvectors/demo, swtpm). Two digests for one path make "the" output ambiguous: the
 * artifact check keeps one of them and calls the other verified. Expected digests are the demo weights hashed here
 * with node:crypto.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkArtifacts, decodeEvents, readFacts, verifyAibom } from '../src/aibom/index.js';
import { VerificationError } from '../src/errors.js';

const DEMO = resolve(import.meta.dirname, '../testvectors/demo');
const have = existsSync(resolve(DEMO, 'aibom.json'));
if (!have) console.warn(`NOTICE: ${DEMO} absent (npm run vectors:aibom); outputs attacks skipped.`);
const rd = (f: string): Buffer => readFileSync(resolve(DEMO, f));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

(have ? describe : describe.skip)('an outputs event may list each path once', () => {
  const doc = JSON.parse(rd('aibom.json').toString()) as { evidence: { appEventLog: Record<string, string[]> } };
  const outputsEvent = doc.evidence.appEventLog['8']![0]!;
  const zip = rd('weights/finetuned-model.zip');
  const cfg = rd('weights/lora-out/adapter_config.json');
  // The same event with the zip listed a second time, bound to the adapter config's digest (sorted, Python separators).
  const entry = (path: string, hash: string): string => `{"spec": {"path": "${path}"}, "resolved": {"hash": "${hash}"}}`;
  const twice = outputsEvent.replace('"content": [', `"content": [${entry('finetuned-model.zip', sha(cfg))}, `);

  test('precondition: the real event binds the demo weights once each', () => {
    const f = readFacts(decodeEvents(8, [outputsEvent]), []);
    expect(f.outputs!.find((o) => o.name === 'finetuned-model.zip')!.sha256).toBe(sha(zip));
    expect(new Set(f.outputs!.map((o) => o.name)).size).toBe(f.outputs!.length);
  });

  test('why it matters: with a duplicated path the artifact check accepts the wrong bytes and reports nothing missing', async () => {
    const expected = [...readFacts(decodeEvents(8, [outputsEvent]), []).outputs!, { name: 'finetuned-model.zip', sha256: sha(cfg) }];
    const rep = await checkArtifacts(expected, { 'finetuned-model.zip': cfg });
    expect(rep.mismatched).toEqual([]);
    expect(rep.missing).not.toContain('finetuned-model.zip');
  });

  test('a path listed twice is CLAIMS_MISMATCH when the events are read (was: accepted)', async () => {
    expect(() => readFacts(decodeEvents(8, [twice]), [])).toThrow(VerificationError);
    try {
      readFacts(decodeEvents(8, [twice]), []);
    } catch (e) {
      expect((e as VerificationError).code).toBe('CLAIMS_MISMATCH');
    }
    const mutated = JSON.parse(rd('aibom.json').toString()) as typeof doc;
    mutated.evidence.appEventLog['8']![0] = twice;
    const r = await verifyAibom(JSON.stringify(mutated), { trustAnchors: [rd('trust-root.pem')], at: new Date('2026-11-26T00:00:00Z'), policy: rd('policy.json') });
    expect(r.valid).toBe(false);
    expect(r.error?.code).toBe('CLAIMS_MISMATCH');
    expect(r.checks.at(-1)).toMatchObject({ id: 'document', ok: false });
  });
});
