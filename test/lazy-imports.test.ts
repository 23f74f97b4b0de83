/**
 * What `import { verifyAibom } from 'aicert'` loads up front (spec/api.md): the root's static import graph does not
 * reach the CBOR codec, the original-format parser, the confidential-VM verifiers or the boot-log parser; verifyAibom
 * imports them on demand. Static imports only (type-only imports are erased; dynamic import() is the lazy edge).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** Static runtime imports of one file, src-relative (bare package names kept as they are). */
function staticImports(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? relative(SRC, resolve(dirname(join(SRC, file)), s.replace(/\.js$/, '.ts'))) : s));
}

/** Every file (and package) reachable from `entry` through static imports. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    if (f.endsWith('.ts')) staticImports(f).forEach(walk);
  };
  walk(entry);
  return seen;
}

describe('lazy imports of the root API', () => {
  const root = closure('index.ts');

  it('reads the graph (not vacuous)', () => {
    expect(root).toContain('aibom/verify.ts');
    expect(root).toContain('tpm/quote.ts');
    expect(root).toContain('@noble/hashes/sha2.js');
  });

  it.each(['cbor-x', 'aibom/cbor.ts', 'aibom/legacy.ts', 'aibom/cvm.ts', 'tpm/snp.ts', 'tpm/tdx.ts', 'tpm/trust-amd.ts', 'eventlog/cel-cbor.ts', 'aibom/steps/bootlog.ts'])(
    'the root does not load %s up front',
    (f) => expect(root).not.toContain(f),
  );

  it('verifyAibom loads each of them on demand', () => {
    const lazy = (file: string) => [...readFileSync(join(SRC, file), 'utf8').matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
    expect(lazy('aibom/load.ts')).toEqual(['./cbor.js', './legacy.js']);
    expect(lazy('aibom/steps/platform.ts')).toEqual(['../cvm.js']);
    expect(lazy('aibom/steps/logs.ts')).toEqual(['./bootlog.js']);
  });
});
