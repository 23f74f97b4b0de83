/**
 * Policy and claims attacks on the REAL demo AIBOM (testvectors/demo, made on swtpm): policy sources that must each
 * hold, platform subjects matched on parsed attributes, model and dataset namespaces, claims compared as multisets
 * and exactly (config, byproducts), and output names refused at parse time. Where a forged statement would no
 * longer be bound to the quote, the attack goes to the shared mechanism (checkStatement / readFacts) with the demo's
 * own measured facts. spec/policy.md, spec/aibom-v1.md §5.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parsePolicy, verifyAibom, type VerifyAibomOptions } from '../src/aibom/index.js';
import { checkStatement, claimsFromFacts } from '../src/aibom/claims.js';
import { decodeEvents, readFacts, type AppFacts } from '../src/aibom/events.js';
import { parseStrictJson } from '../src/aibom/json.js';
import { parseAibom } from '../src/aibom/parse.js';
import { MalformedInputError, VerificationError } from '../src/errors.js';

const DEMO = resolve(import.meta.dirname, '../testvectors/demo');
const have = existsSync(resolve(DEMO, 'aibom.json'));
if (!have) console.warn(`NOTICE: ${DEMO} absent; claims attacks skipped.`);
const rd = (f: string): Buffer => readFileSync(resolve(DEMO, f));

(have ? describe : describe.skip)('policy sources and rules (demo AIBOM)', () => {
  const doc = rd('aibom.json');
  const policy = JSON.parse(rd('policy.json').toString()) as Record<string, any>;
  const at = new Date(JSON.parse(rd('demo.json').toString()).generated_at ?? '2026-11-26T00:00:00Z');
  const verdict = async (o: Partial<VerifyAibomOptions>) => {
    const r = await verifyAibom(doc, { trustAnchors: [rd('trust-root.pem')], at, policy, ...o });
    return r.error?.code ?? (r.valid ? 'valid' : 'invalid');
  };
  const [img1, img2] = Object.keys(policy.containers as object);

  test('control: valid with the golden policy', async () => {
    expect(await verdict({})).toBe('valid');
  });

  test('every source must allow each image: --containers {} allows none, one source forbidding an image wins (was: valid)', async () => {
    expect(await verdict({ containers: {} })).toBe('CONTAINER_NOT_ALLOWED');
    expect(await verdict({ containers: { [img1!]: policy.containers[img1!] } })).toBe('CONTAINER_NOT_ALLOWED');
    expect(await verdict({ containers: { ...policy.containers } })).toBe('valid');
    expect(img2).toBeDefined();
  });

  test('platformSubjects match parsed attributes: "=" is malformed, an O value does not meet a CN rule (was: valid)', async () => {
    await expect(verdict({ policy: { ...policy, platformSubjects: ['='] } })).rejects.toBeInstanceOf(MalformedInputError);
    await expect(verdict({ policy: { ...policy, platformSubjects: ['CN=*'] } })).rejects.toBeInstanceOf(MalformedInputError);
    // The demo AK subject is "O=aicert demo, CN=<uuid>.TrustedVM.aicert.test": text of the O attribute is not a CN.
    expect(await verdict({ policy: { ...policy, platformSubjects: ['aicert demo'] } })).toBe('PLATFORM_NOT_ALLOWED');
    expect(await verdict({ policy: { ...policy, platformSubjects: ['CN=aicert demo'] } })).toBe('PLATFORM_NOT_ALLOWED');
    expect(await verdict({ policy: { ...policy, platformSubjects: ['O=aicert demo'] } })).toBe('valid');
    expect(await verdict({ policy: { ...policy, platformSubjects: ['CN=*.trustedvm.aicert.test'] } })).toBe('valid');
    expect(await verdict({ policy: { ...policy, platformSubjects: ['.TrustedVM.aicert.test'] } })).toBe('valid');
    expect(await verdict({ policy: { ...policy, platformSubjects: ['.aicert.test.evil'] } })).toBe('PLATFORM_NOT_ALLOWED');
  });

  test('a base model is never named by a datasets/ reference (was: accepted as the model)', () => {
    const ref = (policy.baseModels as string[])[0]!;
    expect(() => parsePolicy({ baseModels: [`datasets/${ref}`] })).toThrow(MalformedInputError);
    expect(() => parsePolicy({ baseModels: [`https://huggingface.co/datasets/${ref}`] })).toThrow(MalformedInputError);
    expect(parsePolicy({ datasets: [`datasets/${ref}`] }).datasets).toEqual([ref]);
  });
});

(have ? describe : describe.skip)('claims are exactly what was measured (demo facts)', () => {
  const ev = parseAibom(rd('aibom.json'));
  const events = () => [...decodeEvents(14, ev.app.pcr14, true), ...decodeEvents(8, ev.app.pcr8, true)];
  const facts = (): AppFacts => readFacts(events(), []);
  const stmt = (): any => parseStrictJson(ev.statementBytes!, 'statement');
  const check = (s: any, f: AppFacts = facts()) => checkStatement(s, f, claimsFromFacts(f));
  const code = (fn: () => unknown): string => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      if (e instanceof VerificationError || e instanceof MalformedInputError) return e.code;
      throw e;
    }
  };

  test('control: the demo statement states exactly the measured facts; the config shown is the measured one', () => {
    const c = check(stmt());
    expect(c.config).toEqual(facts().config!.file);
  });

  test('images compare as a multiset: [a, b, b] against [a, a, b] fails (was: passed)', () => {
    const f = facts();
    const [a, b] = f.images;
    const s = stmt();
    const deps = s.predicate.buildDefinition.resolvedDependencies as any[];
    const imgB = deps.find((d) => d.name === b!.name);
    deps.push(structuredClone(imgB));
    f.images = [a!, a!, b!];
    expect(code(() => check(s, f))).toBe('CLAIMS_MISMATCH');
  });

  test("claims.config is compared with the measured configuration (was: the statement's copy was shown)", () => {
    const s = stmt();
    s.predicate.buildDefinition.externalParameters.config.base_model = 'evil/model';
    expect(code(() => check(s))).toBe('CLAIMS_MISMATCH');
  });

  test('byproducts compare strictly: "0xd8000", [884736] and strings do not equal 884736 (was: equal)', () => {
    for (const v of ['0xd8000', [884736], '884736', 884736.0000000001]) {
      const s = stmt();
      const bp = (s.predicate.runDetails.byproducts as any[]).find((b) => b.name === 'compute');
      expect(bp.annotations.total_flos).toBe(884736);
      bp.annotations.total_flos = v;
      expect(code(() => check(s)), JSON.stringify(v)).toBe('CLAIMS_MISMATCH');
    }
  });

  test('a number literal below double precision is malformed in any strict JSON text', () => {
    expect(() => parseStrictJson('{"total_flos": 884736.00000000000001}', 'x')).toThrow(MalformedInputError);
    expect(() => parseStrictJson('[9007199254740993]', 'x')).toThrow(MalformedInputError);
    expect(() => parseStrictJson('[1e400]', 'x')).toThrow(MalformedInputError);
    expect(parseStrictJson('[884736, 0.143577, 1e+21, 1152921504606846976, -0.0]', 'x')).toEqual([884736, 0.143577, 1e21, 2 ** 60, -0]);
  });

  test('a model resource measured from a datasets/ URL is a claims mismatch, not a warning', () => {
    const list = events();
    const m = list.find((e) => e.type === 'input_resource' && (e.content as any).spec.resource_proto.resource_type === 'model')!;
    const rp = (m.content as any).spec.resource_proto;
    rp.repo = rp.repo.replace('https://huggingface.co/', 'https://huggingface.co/datasets/');
    expect(code(() => readFacts(list, []))).toBe('CLAIMS_MISMATCH');
  });

  test('output names are validated at parse time for every document (was: VALID outputs)', () => {
    for (const name of ['../../../../root/.ssh/authorized_keys', '/etc/cron.d/x', 'a//b', 'a/./b', 'a\\b', 'a\u0000b', 'x\u001b[2Jy', 'ok\nBase model  evil', '']) {
      const list = events();
      const o = list.find((e) => e.type === 'outputs')!;
      const outs = (Array.isArray(o.content) ? o.content : (o.content as any).outputs) as any[];
      outs[0].spec.path = name;
      expect(code(() => readFacts(list, [])), JSON.stringify(name)).toBe('MALFORMED_INPUT');
    }
  });
});
