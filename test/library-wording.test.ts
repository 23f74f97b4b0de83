/**
 * Library wording stays CLI-free (spec/api.md): results and messages of the library name options
 * (`options.nonce`), never flags (`--nonce`); the CLI maps them to its flags in one function (src/cli/flag-words.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAibom } from '../src/aibom/verify.js';
import { flagWords } from '../src/cli/flag-words.js';

const REPO = join(import.meta.dirname, '..');
const LIBRARY = ['aibom', 'tpm', 'eventlog', 'hub', 'node', 'util', 'errors.ts', 'index.ts'];
const files = (p: string): string[] =>
  p.endsWith('.ts') ? [p] : readdirSync(p, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(p, e.name)) : e.name.endsWith('.ts') ? [join(p, e.name)] : []));
const demo = (f: string) => new Uint8Array(readFileSync(join(REPO, 'testvectors', 'demo', f)));

describe('library wording', () => {
  it('no string literal in the library names a CLI flag', () => {
    const found: string[] = [];
    for (const f of LIBRARY.flatMap((d) => files(join(REPO, 'src', d)))) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (/^\s*(\*|\/\/|\/\*)/.test(line)) return;
        for (const m of line.matchAll(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g)) {
          if (/(^|[\s(`'"])--[a-z]/.test(m[0].slice(1, -1))) found.push(`${relative(REPO, f)}:${i + 1}: ${m[0]}`);
        }
      });
    }
    expect(found).toEqual([]);
  });

  it('verifyAibom names the options that were not given, not flags', async () => {
    const r = await verifyAibom(demo('aibom.json'), { trustAnchors: [new TextDecoder().decode(demo('trust-root.pem'))], allowUncheckedPlatform: true });
    const details = r.checks.map((c) => c.detail).join('\n');
    expect(details).toMatch(/no options\.nonce given/);
    expect(details).toMatch(/no options\.artifacts given/);
    expect(details).toMatch(/options\.measurements or options\.policy/);
    expect(details).not.toMatch(/--[a-z]/);
  });

  it('the CLI maps option names to its flags, and nothing else', () => {
    expect(flagWords('no options.nonce given; no options.artifacts given')).toBe('no --nonce given; no --model given');
    expect(flagWords('(options.measurements or options.policy) options.hfEndpoint')).toBe('(--measurements or --policy) --hf-endpoint');
    expect(flagWords('options.minRsaBits and options.toString stay')).toBe('options.minRsaBits and options.toString stay');
  });
});
