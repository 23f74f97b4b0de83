/**
 * Optional peer dependencies (src/wire/optional.ts, spec/api.md): verification installs nothing the launcher needs.
 * `yaml` and the Azure SDKs are optional peers, loaded on first use; no source file imports them statically, and a
 * missing one surfaces as OptionalDependencyError naming the package to install.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptionalDependencyError, optionalImport } from '../src/wire/optional.js';
import { parseAxolotlConfig } from '../src/wire/config.js';

const REPO = join(import.meta.dirname, '..');
const OPTIONAL = ['yaml', '@azure/identity', '@azure/storage-blob'];
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));

describe('optional peer dependencies', () => {
  it.each(OPTIONAL)('%s is an optional peer, not a dependency', (name) => {
    expect(pkg.dependencies).not.toHaveProperty(name);
    expect(pkg.peerDependencies).toHaveProperty(name);
    expect(pkg.peerDependenciesMeta![name]).toEqual({ optional: true });
  });

  it('keeps @huggingface/hub a regular dependency (Hub mode is verification)', () => {
    expect(pkg.dependencies).toHaveProperty('@huggingface/hub');
  });

  it('no source file imports an optional peer statically (type-only imports are erased)', () => {
    const offenders: string[] = [];
    for (const f of [...files(join(REPO, 'src')), ...files(join(REPO, 'bin'))]) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'";]*?\sfrom\s+['"]([^'"]+)['"]/gm)) {
        if (OPTIONAL.includes(m[1]!)) offenders.push(`${relative(REPO, f)}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('a missing package becomes OptionalDependencyError naming what to install', async () => {
    // A real failed import of a package that is not installed, reported under the optional name.
    const err = await optionalImport('yaml', () => import('yaml-aicert-absent' as string)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionalDependencyError);
    expect((err as OptionalDependencyError).packageName).toBe('yaml');
    expect((err as Error).message).toMatch(/npm install yaml/);
  });

  it('other load failures pass through unchanged', async () => {
    const boom = new SyntaxError('broken module');
    await expect(optionalImport('yaml', () => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('the config reader loads yaml on first use', async () => {
    const rev = 'a'.repeat(40);
    const c = await parseAxolotlConfig(`base_model: org/m@sha1:${rev}\ndatasets:\n  - path: org/d@sha1:${'b'.repeat(40)}\n    name: /t.jsonl\n`);
    expect(c.baseModel.revision).toBe(rev);
  });
});
