/**
 * Statement subjects vs the measured outputs (spec/aibom-v1.md §5, step 8) must be equal as multisets of
 * name=sha256 pairs. checkStatement matches them by name (output names are unique); each mutated subject list here
 * is judged against an independent oracle: the two lists of `name=sha256` keys, sorted, compared element by element.
 */
import { describe, expect, test } from 'vitest';
import { checkStatement, type AppFacts } from '../src/aibom/index.js';
import { VerificationError } from '../src/errors.js';

type Out = { name: string; sha256: string };
const hex = (i: number): string => (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(8);
const outputs: Out[] = Array.from({ length: 40 }, (_, i) => ({ name: `shard-${i % 4}/part-${i}.bin`, sha256: hex(i + 1) }));
const facts = (outs: Out[]): AppFacts => ({ events: [], images: [], models: [], datasets: [], finetuneSeconds: [], totalFlos: [], outputs: outs });
const statement = (subjects: unknown[]) => ({ subject: subjects, predicate: { buildDefinition: {}, runDetails: { builder: { id: 'b' } } } });
const subj = (o: Out) => ({ name: o.name, digest: { sha256: o.sha256 } });

/** The oracle: same sorted key lists (keys as the statement states them, digest lowercased). */
const oracle = (subjects: { name: unknown; digest: { sha256: unknown } }[], outs: Out[]): boolean => {
  const a = subjects.map((s) => `${String(s.name)}=${String(s.digest.sha256).toLowerCase()}`).sort();
  const b = outs.map((o) => `${o.name}=${o.sha256}`).sort();
  return a.length === b.length && a.every((k, i) => k === b[i]);
};
const verdict = (subjects: ReturnType<typeof subj>[], outs: Out[] = outputs): boolean | string => {
  try {
    checkStatement(statement(subjects), facts(outs), {});
    return true;
  } catch (e) {
    return e instanceof VerificationError && e.code === 'CLAIMS_MISMATCH' ? false : String(e);
  }
};

describe('subjects equal the measured outputs as a multiset', () => {
  const base = outputs.map(subj);
  const cases: Array<[string, ReturnType<typeof subj>[]]> = [
    ['the same list', base],
    ['reordered', [...base].reverse()],
    ['uppercase digest (statement digests are compared lowercased)', base.map((s, i) => (i === 3 ? { ...s, digest: { sha256: s.digest.sha256.toUpperCase() } } : s))],
    ['one dropped', base.slice(1)],
    ['one added', [...base, { name: 'extra.bin', digest: { sha256: hex(99) } }]],
    ['one listed twice in place of another (same count)', [...base.slice(1), base[5]!]],
    ['two names with their digests swapped', base.map((s, i) => (i === 0 ? { ...s, digest: base[1]!.digest } : i === 1 ? { ...s, digest: base[0]!.digest } : s))],
    ['one digest changed', base.map((s, i) => (i === 7 ? { ...s, digest: { sha256: hex(1000) } } : s))],
    ['one name changed', base.map((s, i) => (i === 9 ? { ...s, name: `${s.name}.x` } : s))],
    ['empty vs measured', []],
  ];
  test.each(cases)('%s: checkStatement agrees with the sorted-keys oracle', (_, subjects) => {
    expect(verdict(subjects)).toBe(oracle(subjects, outputs));
  });

  test('the oracle is not vacuous: some cases pass, most fail', () => {
    const results = cases.map(([, s]) => oracle(s, outputs));
    expect(results.filter(Boolean).length).toBe(3);
    expect(results.filter((r) => !r).length).toBe(7);
  });

  test('no outputs measured and none stated passes; one stated fails', () => {
    expect(verdict([], [])).toBe(true);
    expect(verdict([base[0]!], [])).toBe(false);
  });

  test('outputs with a repeated name (not from readOutputs, which refuses them) still compare as multisets', () => {
    const dup = [...outputs, outputs[3]!, { ...outputs[4]!, sha256: hex(500) }];
    for (const subjects of [[...base, base[3]!, { ...base[4]!, digest: { sha256: hex(500) } }], [...base, base[3]!].reverse(), [...base, base[4]!, base[3]!], base]) {
      expect(verdict(subjects, dup)).toBe(oracle(subjects, dup));
    }
    expect(verdict([...base, base[3]!, { ...base[4]!, digest: { sha256: hex(500) } }].reverse(), dup)).toBe(true);
  });

  test('seeded random mutations agree with the oracle', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let t = 0; t < 300; t++) {
      const s = [...base];
      for (let k = rnd(3); k > 0; k--) {
        const i = rnd(s.length), j = rnd(s.length);
        const op = rnd(4);
        if (op === 0) s[i] = s[j]!;
        else if (op === 1) s[i] = { ...s[i]!, digest: s[j]!.digest };
        else if (op === 2) s.splice(i, 1);
        else [s[i], s[j]] = [s[j]!, s[i]!];
      }
      expect(verdict(s), `trial ${t}`).toBe(oracle(s, outputs));
    }
  });
});
