/**
 * Module shape (spec/runner-protocol.md; the brief's architecture): the runner and the launcher share the wire
 * protocol through src/wire, the runner never imports the launcher or the CLI, the launcher never imports the CLI,
 * src/wire imports neither side, and no runtime import cycle exists in src/ (type-only imports are erased).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/runner-rig.js';

const SRC = join(ROOT, 'src');
const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));

/** Runtime imports of one file (static `import … from`, `export … from`, dynamic `import()`), as src-relative paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
  ];
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
}

const graph = new Map(files(SRC).map((f) => [relative(SRC, f), imports(f)]));

describe('module shape', () => {
  it('reads the import graph (not vacuous)', () => {
    expect(graph.get('launcher/atls.ts')).toContain('wire/protocol.ts');
    expect(graph.get('runner/server.ts')).toContain('wire/config.ts');
    expect(graph.get('cli/cmd-runner.ts')).toContain('runner/cli-entry.ts');
  });

  it.each([
    ['runner/', 'launcher/'],
    ['runner/', 'cli/'],
    ['launcher/', 'cli/'],
    ['wire/', 'runner/'],
    ['wire/', 'launcher/'],
    ['wire/', 'cli/'],
    // the verifier page is browser-only: the core, src/hub and src/util, nothing Node-only
    ['web/', 'node/'],
    ['web/', 'cli/'],
    ['web/', 'launcher/'],
    ['web/', 'runner/'],
    ['aibom/', 'web/'],
    ['node/', 'web/'],
  ])('%s does not import %s', (from, to) => {
    const bad = [...graph].flatMap(([f, deps]) => (f.startsWith(from) ? deps.filter((d) => d.startsWith(to)).map((d) => `${f} -> ${d}`) : []));
    expect(bad).toEqual([]);
  });

  it('has no runtime import cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') return void cycles.push([...stack.slice(stack.indexOf(f)), f].join(' -> '));
      state.set(f, 'open');
      for (const d of graph.get(f) ?? []) visit(d, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
