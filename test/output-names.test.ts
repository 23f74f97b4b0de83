/**
 * The outputs event's names (spec/sharded-digest.md §5: relative, `/`-separated, no empty, `.` or `..` segment) and
 * hashes, read by readFacts: every short name over {a, ., /} is judged against an oracle that splits on `/`, and the
 * error names the field path of the offending entry.
 */
import { describe, expect, test } from 'vitest';
import { decodeEvents, readFacts } from '../src/aibom/index.js';
import { MalformedInputError } from '../src/errors.js';

const H = 'ab'.repeat(32);
const event = (entries: Array<[string, unknown]>): string =>
  JSON.stringify({ event_type: 'outputs', content: entries.map(([path, hash]) => ({ spec: { path }, resolved: { hash } })) });
const read = (entries: Array<[string, unknown]>, warnings: string[] = []) => readFacts(decodeEvents(8, [event(entries)]), warnings);
const errorOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

/** Oracle for the segment rule alone (names here have no other fault). */
const segmentsOk = (name: string): boolean => name.split('/').every((s) => s !== '' && s !== '.' && s !== '..');

describe('outputs event names and hashes', () => {
  const names: string[] = [''];
  for (let len = 1; len <= 6; len++) for (const n of names.filter((x) => x.length === len - 1)) for (const c of ['a', '.', '/']) names.push(n + c);

  test('every name over {a, ., /} up to 6 characters: accepted exactly when no segment is empty, . or ..', () => {
    let accepted = 0;
    for (const name of names.slice(1)) {
      const e = errorOf(() => read([[name, H]]));
      expect(e === undefined, JSON.stringify(name)).toBe(segmentsOk(name));
      if (e === undefined) accepted++;
      else expect(e, JSON.stringify(name)).toBeInstanceOf(MalformedInputError);
    }
    expect(accepted).toBeGreaterThan(50);
    expect(accepted).toBeLessThan(names.length - 50);
  });

  test('every name of up to 3 characters over letters, dots, slashes, separators and control/bidi edges: the spec rules', () => {
    const alphabet = ['a', 'C', '.', '/', '\\', ':', '\u0000', '\u001f', ' ', '\u007f', '\u0085', '\u009f', '\u00a0', 'é', '\u2027', '\u2028', '\u202e', '\u202f', '\u2065', '\u2066', '\u2069', '\u206a'];
    // Independent oracle (spec/sharded-digest.md §5 and the terminal-safety rule), written from the rules, not the code.
    const hidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    const ok = (n: string): boolean => n !== '' && segmentsOk(n) && !hidden.test(n) && !n.includes('\\') && !/^[A-Za-z]:/.test(n);
    let all = [''];
    const seen: string[] = [];
    for (let len = 1; len <= 3; len++) {
      all = all.flatMap((x) => alphabet.map((c) => x + c));
      seen.push(...all);
    }
    let accepted = 0;
    for (const name of seen) {
      const e = errorOf(() => read([[name, H]]));
      expect(e === undefined, JSON.stringify(name)).toBe(ok(name));
      if (e === undefined) accepted++;
    }
    expect(accepted).toBeGreaterThan(1000);
    expect(accepted).toBeLessThan(seen.length - 1000);
  });

  test('a bad name or hash names its entry', () => {
    const e1 = errorOf(() => read([['a', H], ['b/../c', H]])) as MalformedInputError;
    expect(e1).toBeInstanceOf(MalformedInputError);
    expect(e1.message).toContain('segment');
    expect(JSON.stringify(e1)).toContain('pcr8[0].content[1].spec.path');
    const e2 = errorOf(() => read([['a', H], ['b', 'zz'.repeat(32)]])) as MalformedInputError;
    expect(e2).toBeInstanceOf(MalformedInputError);
    expect(JSON.stringify(e2)).toContain('pcr8[0].content[1].resolved.hash');
    const e3 = errorOf(() => read([['a', H], ['b', `sha1:${'ab'.repeat(20)}`]])) as MalformedInputError;
    expect(JSON.stringify(e3)).toContain('pcr8[0].content[1].resolved.hash');
  });

  test('hash forms: bare lowercase, uppercase and sha256: prefixed read as lowercase hex; others refused', () => {
    expect(read([['a', H]]).outputs).toEqual([{ name: 'a', sha256: H }]);
    expect(read([['a', H.toUpperCase()]]).outputs).toEqual([{ name: 'a', sha256: H }]);
    expect(read([['a', `sha256:${H}`]]).outputs).toEqual([{ name: 'a', sha256: H }]);
    for (const bad of [H.slice(2), `${H}ab`, ` ${H}`, `${H}\n`, 42, null]) expect(errorOf(() => read([['a', bad]])), JSON.stringify(bad)).toBeInstanceOf(MalformedInputError);
  });
});
