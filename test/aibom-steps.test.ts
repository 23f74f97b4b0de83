/**
 * Policy and claims steps on the REAL AIBOM v1 from testvectors/aibom (swtpm): expected names/commits/digests are
 * read from the generator's statement and events, and each rule is shown to pass and to fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkStatement, claimsFromFacts, decodeEvents, readFacts, verifyAibom } from '../src/aibom/index.js';
import { VerificationError } from '../src/errors.js';
import { AIBOM_DIR, sha256hex } from './helpers/aibom-fixtures.js';

const have = existsSync(resolve(AIBOM_DIR, 'manifest.json'));
(have ? describe : describe.skip)('policy and claims on a real AIBOM v1', () => {
  const rd = (p: string) => readFileSync(resolve(AIBOM_DIR, p));
  const man = JSON.parse(rd('manifest.json').toString()) as { generated_at: string; statement_sha256: string; tpm: { ak_subject_cn: string } };
  const doc = JSON.parse(rd('aibom.json').toString()) as { statement: string; evidence: { appEventLog: { '14': string[]; '8': string[] } } };
  const stmt = JSON.parse(rd('statement.intoto.json').toString()) as Record<string, any>;
  const deps = stmt.predicate.buildDefinition.resolvedDependencies as { uri?: string; digest: Record<string, string>; annotations: { role: string } }[];
  const model = deps.find((d) => d.annotations.role === 'model')!;
  const dataset = deps.find((d) => d.annotations.role === 'dataset')!;
  const ref = (d: typeof model) => `${d.uri!.replace('https://huggingface.co/', '').replace('datasets/', '')}@${d.digest.gitCommit}`;
  const opts = (policy: object) => ({ trustAnchors: [rd('ca/root.pem')], at: new Date(man.generated_at), measurements: rd('measurements.json'), containers: rd('containers.json'), policy });
  const verdict = async (policy: object) => {
    const r = await verifyAibom(rd('aibom.json'), opts(policy));
    return { valid: r.valid, code: r.error?.code, last: r.checks.at(-1)?.id, r };
  };

  test('the statement file is the exact statement in the document and D is what the generator recorded', () => {
    expect(Buffer.from(doc.statement, 'base64').equals(rd('statement.intoto.json'))).toBe(true);
    expect(sha256hex(rd('statement.intoto.json'))).toBe(man.statement_sha256);
  });

  test('allowed base model / dataset / required events / platform pass; others fail with policy codes', async () => {
    const good = {
      baseModels: [ref(model)],
      datasets: [ref(dataset)],
      requiredEvents: ['axolotl_configuration', 'input_image:@local/aicert-base:latest', 'input_resource:model', 'input_resource:dataset', 'timing', 'outputs', 'aibom_statement'],
      platformSubjects: [man.tpm.ak_subject_cn.toUpperCase()],
    };
    const ok = await verdict(good);
    expect(ok.valid, JSON.stringify(ok.r.checks.at(-1))).toBe(true);
    for (const id of ['policy.baseModel', 'policy.datasets', 'policy.events', 'policy.platformSubject']) expect(ok.r.checks.find((c) => c.id === id)?.ok).toBe(true);
    expect(ok.r.claims.baseModel?.revision).toBe(model.digest.gitCommit);
    expect(ok.r.claims.datasets?.[0]?.path).toBe((dataset.annotations as { path?: string }).path);
    expect(ok.r.claims.statementDigest).toBe(man.statement_sha256);
    const other = 'org/other@' + '0'.repeat(40);
    expect(await verdict({ ...good, baseModels: [other] })).toMatchObject({ valid: false, code: 'BASE_MODEL_NOT_ALLOWED', last: 'policy.baseModel' });
    expect(await verdict({ ...good, datasets: [other] })).toMatchObject({ valid: false, code: 'DATASET_NOT_ALLOWED' });
    expect(await verdict({ ...good, requiredEvents: ['input_resource:dataset', 'input_resource:model'] })).toMatchObject({ code: 'REQUIRED_EVENT_ORDER' });
    expect(await verdict({ ...good, requiredEvents: ['input_image'] })).toMatchObject({ code: 'REQUIRED_EVENT' });
    expect(await verdict({ ...good, platformSubjects: ['.example.com'] })).toMatchObject({ code: 'PLATFORM_NOT_ALLOWED' });
    expect(await verdict({ bootEvents: { '0': { sha256: ['00'.repeat(32)] } } })).toMatchObject({ code: 'BOOT_LOG_REQUIRED' });
    expect(await verdict({ pcrs: { sha256: { '14': ['00'.repeat(32)] } } })).toMatchObject({ code: 'PCR_VALUE_NOT_ALLOWED' });
  });

  test('the statement must state exactly the measured inputs and outputs (CLAIMS_MISMATCH)', () => {
    const warnings: string[] = [];
    const facts = readFacts([...decodeEvents(14, doc.evidence.appEventLog['14']), ...decodeEvents(8, doc.evidence.appEventLog['8'])], warnings);
    const base = claimsFromFacts(facts);
    expect(() => checkStatement(stmt, facts, base)).not.toThrow();
    const clone = () => JSON.parse(JSON.stringify(stmt)) as typeof stmt;
    const edits: ((s: typeof stmt) => void)[] = [
      (s) => (s.predicate.buildDefinition.resolvedDependencies.find((d: typeof model) => d.annotations.role === 'model').digest.gitCommit = 'f'.repeat(40)),
      (s) => (s.predicate.buildDefinition.resolvedDependencies.find((d: typeof model) => d.annotations.role === 'dataset').annotations.path = 'other.jsonl'),
      (s) => s.predicate.buildDefinition.resolvedDependencies.pop(),
      (s) => s.predicate.buildDefinition.resolvedDependencies.push({ ...model }),
      (s) => (s.subject[0].digest.sha256 = '0'.repeat(64)),
      (s) => s.subject.pop(),
      (s) => (s.predicate.buildDefinition.resolvedDependencies[0].annotations.role = 'tokenizer'),
    ];
    for (const edit of edits) {
      const s = clone();
      edit(s);
      expect(() => checkStatement(s, facts, base)).toThrow(VerificationError);
    }
  });
});
