/**
 * Every case of testvectors/aibom (REAL AIBOMs made on swtpm by `npm run vectors:aibom`, with an attacker's mutations)
 * through the CLI `run()`: the exit code must be the manifest's, whose expectations the generator derived from
 * independent tools (python hashlib replay, tpm2_checkquote, openssl verify).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { run } from '../src/cli/cmd-verify.js';
import { AIBOM_DIR } from './helpers/aibom-fixtures.js';

interface Case {
  name: string;
  file: string;
  args: string[];
  expected: { exit: number; code: string | null };
}

const manifestPath = resolve(AIBOM_DIR, 'manifest.json');
const cases: Case[] = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { cases: Case[] }).cases : [];
if (!cases.length) console.warn(`NOTICE: ${manifestPath} absent (npm run vectors:aibom); AIBOM case tests are skipped.`);

/** Paths in args are relative to the vectors folder; flags are kept. */
const absolutise = (args: string[]): string[] =>
  args.map((a, i) => (i > 0 && ['--trust-root', '--measurements', '--containers', '--policy', '--model'].includes(args[i - 1]!) ? resolve(AIBOM_DIR, a) : a));

async function verify(c: Case): Promise<{ code: number; out: string }> {
  let out = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    let code: number;
    try {
      code = await run([resolve(AIBOM_DIR, c.file), ...absolutise(c.args), '--json']);
    } catch (err) {
      // main() maps thrown errors to exit codes; run() is called directly here, so do the same.
      const { exitCodeFor } = await import('../src/cli/io.js');
      code = exitCodeFor(err);
    }
    return { code, out };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

(cases.length ? describe : describe.skip)('testvectors/aibom cases through aicert-verify', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const r = await verify(c);
    expect(r.code, r.out).toBe(c.expected.exit);
    if (r.code !== 2) {
      const j = JSON.parse(r.out) as { valid: boolean; checks: { id: string; ok: boolean | null }[] };
      expect(j.valid).toBe(c.expected.exit === 0);
      if (c.expected.exit === 1) expect(j.checks.some((x) => x.ok === false) || j.checks.some((x) => x.ok === null)).toBe(true);
    }
  });
});
