/**
 * The root module's exports (values and types, read by the TypeScript compiler from src/index.ts) are exactly the
 * names listed in spec/api.md; the browser entry exports the same runtime values (spec/api.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as root from '../src/index.js';
import * as browser from '../src/browser.js';

const REPO = join(import.meta.dirname, '..');

/** Names listed in spec/api.md: bullet lines that start with a backticked name and its kind. */
function specNames(): Map<string, string> {
  const text = readFileSync(join(REPO, 'spec', 'api.md'), 'utf8');
  return new Map([...text.matchAll(/^- `(\w+)` \((class|function|const|type)\):/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Every export of src/index.ts, types included, as the compiler resolves them. */
function compilerExports(): Map<string, boolean> {
  const file = join(REPO, 'src', 'index.ts');
  const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return new Map(
    checker.getExportsOfModule(symbol).map((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return [s.name, (target.flags & ts.SymbolFlags.Value) !== 0];
    }),
  );
}

describe('public API (spec/api.md)', () => {
  const spec = specNames();

  it('spec/api.md lists the public names (not vacuous)', () => {
    expect(spec.get('verifyAibom')).toBe('function');
    expect(spec.get('VerifyAibomResult')).toBe('type');
    expect(spec.size).toBeGreaterThan(40);
  });

  it('the root exports exactly the names of spec/api.md, types included', () => {
    const exported = compilerExports();
    expect([...exported.keys()].sort()).toEqual([...spec.keys()].sort());
  }, 60_000);

  it('names listed as values are runtime exports, names listed as types are not', () => {
    const values = Object.keys(root).sort();
    expect(values).toEqual([...spec].filter(([, kind]) => kind !== 'type').map(([n]) => n).sort());
  });

  it('the browser entry exports the same runtime values as the root', () => {
    expect(Object.keys(browser).sort()).toEqual(Object.keys(root).sort());
  });

  it('internals stay out of the root', () => {
    for (const name of ['Reader', 'scanCbor', 'decodeCbor', 'parseStrictJson', 'hash', 'extend', 'applyAnchorEkuRule', 'parseAttest']) {
      expect(root).not.toHaveProperty(name);
    }
  });
});
