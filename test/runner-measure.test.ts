/**
 * src/runner/measure.ts: events must be byte-identical to Python's json.dumps (the original server's serializer).
 * Expected strings come from a real python3 process, never from the code under test.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { events, PyFloat, pyJsonDumps, type PyJson } from '../src/runner/measure.js';

// Tagged JSON for python: floats travel as {"__f": repr-able number}; python rebuilds and dumps each value.
const PY = `import json, sys
def unwrap(v):
    if isinstance(v, dict):
        if set(v) == {"__f"}: return float(v["__f"])
        return {k: unwrap(x) for k, x in v.items()}
    if isinstance(v, list): return [unwrap(x) for x in v]
    return v
for line in sys.stdin:
    print(json.dumps(json.dumps(unwrap(json.loads(line)))))`;

const hasPython = (() => {
  try {
    execFileSync('python3', ['--version']);
    return true;
  } catch {
    console.warn('NOTICE: python3 not found; json.dumps comparison skipped');
    return false;
  }
})();

/** Python json.dumps of each value (one python process for the whole batch). */
function pythonDumps(values: PyJson[]): string[] {
  const tag = (v: PyJson): unknown =>
    v instanceof PyFloat ? { __f: Object.is(v.value, -0) ? '-0.0' : v.value } : Array.isArray(v) ? v.map(tag) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tag(x)])) : v;
  const out = execFileSync('python3', ['-c', PY], { input: values.map((v) => JSON.stringify(tag(v))).join('\n') + '\n', encoding: 'utf8' });
  return out.trim().split('\n').map((l) => JSON.parse(l) as string);
}

const FIXED: PyJson[] = [
  { event_type: 'timing', content: { spec: { finetune_time: new PyFloat(12.5) } } },
  [new PyFloat(1), new PyFloat(0.0002), new PyFloat(0.00002), new PyFloat(1e16), new PyFloat(1.5e-7), new PyFloat(-0), new PyFloat(123456789.125), new PyFloat(1e22)],
  { s: 'naïve café ✓ 𝄞 "q" \\ / \n\r\t\b\f \u0001 \u007f \u2028' },
  { nested: { a: [1, -2, 3, null, true, false], b: {} }, empty: [] },
  { repo: 'https://huggingface.co/datasets/org/x', hash: "sha1:b'0123456789abcdef0123456789abcdef01234567\\n'" },
];

describe.skipIf(!hasPython)('pyJsonDumps matches python3 json.dumps', () => {
  it('fixed corner cases (floats, escapes, nesting, the original quirks)', () => {
    expect(FIXED.map((v) => pyJsonDumps(v))).toEqual(pythonDumps(FIXED));
  });

  it('every event constructor', () => {
    const evs = [
      events.config({ lr: new PyFloat(0.0002), n: 1, list: [{ path: 'a', type: 'alpaca' }] }, 'ab'.repeat(32)),
      events.inputImage('@local/axolotl:latest', `sha256:${'cd'.repeat(32)}`),
      events.inputResource({ resource_type: 'model', repo: 'https://huggingface.co/o/r', hash: 'e'.repeat(40), path: 'm' }, `sha1:${'e'.repeat(40)}`),
      events.timing(3.25),
      events.computeConsumed(884736),
      events.outputs([{ path: 'b.bin', sha256: '1'.repeat(64) }, { path: 'a.zip', sha256: '2'.repeat(64) }]),
      events.aibomStatement('3'.repeat(64)),
    ];
    const py = pythonDumps(evs);
    expect(evs.map((v) => pyJsonDumps(v))).toEqual(py);
    // outputs are sorted by path (v1 rule) and the statement event has the fixed layout of the decisions
    expect(py[5]!.indexOf('a.zip')).toBeLessThan(py[5]!.indexOf('b.bin'));
    expect(py[6]).toBe(`{"event_type": "aibom_statement", "content": {"digest": "sha256:${'3'.repeat(64)}"}}`);
  });

  it('random values (fast-check)', () => {
    const leaf = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => new PyFloat(d)),
    );
    const value = fc.letrec<{ v: PyJson }>((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ unit: 'binary' }), tie('v'), { maxKeys: 4 })),
    })).v;
    const samples = fc.sample(value, 300);
    expect(samples.map((v) => pyJsonDumps(v))).toEqual(pythonDumps(samples));
  });
});

describe('pyJsonDumps rejects what json.dumps would not write the same way', () => {
  it('non-integer JS numbers must be PyFloat; NaN/Infinity are refused', () => {
    expect(() => pyJsonDumps(0.5)).toThrow(TypeError);
    expect(() => new PyFloat(Number.NaN)).toThrow(TypeError);
    expect(() => pyJsonDumps({ a: 2 ** 60 })).toThrow(TypeError);
  });
});

describe('startRunner', () => {
  it('refuses to start when the boot event log it was given cannot be read (before touching the TPM)', async () => {
    const { startRunner } = await import('../src/runner/server.js');
    const { MalformedInputError } = await import('../src/errors.js');
    const p = startRunner({
      tcti: 'swtpm:host=127.0.0.1,port=1', // never reached
      tls: { key: '', cert: '' },
      fetcher: {} as never,
      sandbox: {} as never,
      trainCommand: ['true'],
      workDir: '/nonexistent',
      bootEventLogPath: '/nonexistent/binary_bios_measurements',
    });
    await expect(p).rejects.toBeInstanceOf(MalformedInputError);
    await expect(p).rejects.toThrow(/boot event log: ENOENT/);
  });
});
