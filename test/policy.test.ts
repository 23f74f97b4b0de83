/** Policy parsing, the original formats, merging, and `aicert policy from-log` on a real event log. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { mergePolicies, parseContainers, parsePolicy, policyFromLog, policyFromMeasurements, policyToJson } from '../src/aibom/policy.js';
import { parseTcgLog } from '../src/eventlog/tcg.js';
import { MalformedInputError } from '../src/errors.js';
import { vectorsDir } from './helpers/vectors.js';

const H = (c: string) => c.repeat(64);

describe('parsePolicy', () => {
  test('accepts the documented fields and normalises single values to sets', () => {
    const p = parsePolicy(JSON.stringify({
      _type: 'https://aicert.dev/policy/v1',
      pcrs: { sha256: { '0': H('a'), '4': [H('b'), H('c')] } },
      bootEvents: { '7': { sha256: [H('d')] } },
      containers: { '@local/axolotl:latest': `sha256:${H('e')}` },
      baseModels: ['https://huggingface.co/org/model@' + '1'.repeat(40)],
      datasets: ['datasets/org/ds@' + '2'.repeat(40)],
      requiredEvents: ['axolotl_configuration', 'input_resource:dataset'],
    }));
    expect(p.pcrs).toEqual({ sha256: { '0': [H('a')], '4': [H('b'), H('c')] } });
    expect(p.bootEvents).toEqual({ '7': { match: 'sequence', digests: { sha256: [H('d')] } } });
    expect(p.containers).toEqual({ '@local/axolotl:latest': [`sha256:${H('e')}`] });
    expect(p.baseModels).toEqual(['org/model@' + '1'.repeat(40)]);
    expect(p.datasets).toEqual(['org/ds@' + '2'.repeat(40)]);
  });

  test.each([
    [{ pcr: {} }, /unknown policy field/],
    [{ _type: 'https://aicert.dev/policy/v2' }, /_type/],
    [{ pcrs: { sha257: {} } }, /unknown bank/],
    [{ pcrs: { sha256: { '24': H('a') } } }, /bad PCR index/],
    [{ pcrs: { sha256: { '0': H('A') } } }, /lowercase hex/],
    [{ pcrs: { sha256: { '0': 'aa' } } }, /32-byte/],
    [{ pcrs: { sha256: { '0': [] } } }, /empty allowed set/],
    [{ baseModels: ['org/model@main'] }, /40-hex/],
    [{ containers: { x: 'sha1:abc' } }, /sha256/],
    [{ bootEvents: { '0': { match: 'any', sha256: [] } } }, /match/],
  ])('refuses %j', (p, re) => {
    expect(() => parsePolicy(p)).toThrow(MalformedInputError);
    expect(() => parsePolicy(p)).toThrow(re);
  });

  test('original measurements and container files', () => {
    expect(policyFromMeasurements({ measurements: { '0': H('A'), '12': H('b') } })).toEqual({ pcrs: { sha256: { '0': [H('a')], '12': [H('b')] } } });
    expect(() => policyFromMeasurements({ '0': H('a') })).toThrow(MalformedInputError);
    expect(parseContainers('{"@local/aicert-base:latest": "sha256:' + H('f') + '"}')).toEqual({ '@local/aicert-base:latest': ['sha256:' + H('f')] });
  });

  test('fuzz: random JSON values and text give a policy or MalformedInputError only', () => {
    const only = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (!(e instanceof MalformedInputError)) throw e;
      }
    };
    const field = (k: string) => fc.record({ [k]: fc.jsonValue({ maxDepth: 3 }) });
    const doc = fc.oneof(fc.jsonValue({ maxDepth: 4 }), ...['pcrs', 'bootEvents', 'containers', 'baseModels', 'datasets', 'requiredEvents'].map(field));
    fc.assert(fc.property(doc, fc.string(), (v, s) => {
      for (const f of [() => parsePolicy(v as object), () => parsePolicy(JSON.stringify(v)), () => parsePolicy(s), () => parseContainers(s), () => parseContainers(JSON.stringify(v)), () => policyFromMeasurements(v as object)]) only(f);
    }), { numRuns: 2000 });
  });

  test('merging intersects allowed sets: every source must hold', () => {
    const m = mergePolicies([{ pcrs: { sha256: { '0': [H('a'), H('b')] } } }, { pcrs: { sha256: { '0': [H('b'), H('c')], '1': [H('d')] } } }, { containers: {} }]);
    expect(m.pcrs).toEqual({ sha256: { '0': [H('b')], '1': [H('d')] } });
    expect(m.containers).toEqual({});
  });

  test('merging two platform subject lists is refused (a union would let the platforms of either policy pass)', () => {
    const one = mergePolicies([{ platformSubjects: ['TrustedVM.Azure'] }, { pcrs: { sha256: { '0': [H('a')] } } }]);
    expect(one.platformSubjects).toEqual(['TrustedVM.Azure']);
    expect(() => mergePolicies([{ platformSubjects: ['TrustedVM.Azure'] }, { platformSubjects: ['attacker.example'] }])).toThrow(MalformedInputError);
  });
});

const vd = vectorsDir();
(vd ? describe : describe.skip)('policy from a known-good log (go-attestation sb_cert_eventlog)', () => {
  const dir = resolve(vd ?? '.', 'go-attestation');
  // Read in beforeAll: a skipped suite's body still runs at collection, when the vectors may be absent.
  let expected: { banks: Record<string, Record<string, string>> };
  let log: ReturnType<typeof parseTcgLog>;
  beforeAll(() => {
    expected = JSON.parse(readFileSync(resolve(dir, 'sb_cert_eventlog.expected_pcrs.json'), 'utf8')) as typeof expected;
    log = parseTcgLog(readFileSync(resolve(dir, 'sb_cert_eventlog')));
  });

  test('golden PCR values equal the values go-attestation expects', () => {
    const p = policyFromLog(log);
    for (const bank of ['sha1', 'sha256']) for (const [k, v] of Object.entries(p.pcrs![bank]!)) expect(v).toEqual([expected.banks[bank]![k]]);
    expect(Object.keys(p.pcrs!.sha256!).sort()).toEqual(['0', '4', '5', '7']);
    // The exact digest sequence per PCR: as many digests as extending events.
    const n7 = log.events.filter((e) => e.pcr === 7 && !e.noExtend).length;
    expect(p.bootEvents!['7']!.digests.sha256).toHaveLength(n7);
    // The written policy parses back to itself.
    expect(parsePolicy(JSON.parse(JSON.stringify(policyToJson(p))))).toEqual(p);
  });

  test('--pcrs limits the PCRs and pins PCRs without events at their initial value', () => {
    const p = policyFromLog(log, [1, 7]);
    expect(p.pcrs!.sha256).toEqual({ '1': [expected.banks.sha256!['1']], '7': [expected.banks.sha256!['7']] });
    expect(Object.keys(p.bootEvents!)).toEqual(['7']);
  });

  test('CLI: aicert policy from-log writes that policy; bad usage exits 2', async () => {
    const { run } = await import('../src/cli/cmd-policy.js');
    const { main } = await import('../src/cli/main.js');
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    try {
      expect(await run(['from-log', resolve(dir, 'sb_cert_eventlog'), '--pcrs', '0-1,7'])).toBe(0);
      expect(await main(['policy', 'from-log'])).toBe(2);
      expect(await main(['policy', 'from-log', resolve(dir, 'sb_cert_eventlog'), '--pcrs', '0-30'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    const j = JSON.parse(out.slice(0, out.lastIndexOf('}') + 1)) as { _type: string; pcrs: { sha256: Record<string, string[]> } };
    expect(j._type).toBe('https://aicert.dev/policy/v1');
    expect(j.pcrs.sha256['7']).toEqual([expected.banks.sha256!['7']]);
    expect(Object.keys(j.pcrs.sha256)).toEqual(['0', '1', '7']);
  });
});
