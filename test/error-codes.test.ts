/**
 * One closed, documented set of error codes (src/errors.ts): every code src raises through VerificationError,
 * PolicyError or a check-failing helper is in the set, every listed code is raised somewhere, and every code is
 * documented in spec/verification.md §Error codes. The scan reads the source text, so a new code cannot slip in.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { POLICY_CODES, VERIFICATION_CODES } from '../src/errors.js';
import { TOOL_ERROR_CODES } from '../src/wire/tool-error.js';

const SRC = resolve(import.meta.dirname, '../src');
const files = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : n.endsWith('.ts') ? [join(d, n)] : []));
/** Node-side errors of their own classes (not VerificationError/PolicyError), named so the scan can tell them apart. */
const OTHER_CLASSES = new Set(['RUNNER_UNREACHABLE', 'RUNNER_HTTP', 'RUNNER_FAILED', 'ERR_MODULE_NOT_FOUND',
  // Node's own parseArgs codes, read (not raised) by the CLI's usage errors.
  'ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
  // The CLI's JSON error codes for a whole finetune flow (spec/cli.md §JSON), not VerificationError codes.
  'VERIFICATION_FAILED', 'FLOW_FAILED',
  // The launcher's and runner's ToolError codes: their own closed set (src/wire/tool-error.ts, test/tool-errors.test.ts).
  ...TOOL_ERROR_CODES]);

/** Codes raised in src: UPPER_SNAKE literals on lines that raise or record a failure. */
function raised(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of files(SRC)) {
    if (f.endsWith('errors.ts') || f.endsWith('tool-error.ts')) continue;
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (!/VerificationError|PolicyError|\bfail\(|\bdeny\(|\bcode\b\s*[:=]|code === /.test(line)) return;
      for (const m of line.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) if (!OTHER_CLASSES.has(m[1]!)) out.set(m[1]!, `${f.slice(SRC.length + 1)}:${i + 1}`);
    });
  }
  return out;
}

test('every code raised in src is in the closed set', () => {
  const known = new Set<string>([...VERIFICATION_CODES, ...POLICY_CODES, 'MALFORMED_INPUT']);
  const unknown = [...raised()].filter(([c]) => !known.has(c)).map(([c, at]) => `${c} (${at})`);
  expect(unknown).toEqual([]);
});

test('every listed code is raised somewhere (no dead codes)', () => {
  const r = raised();
  expect([...VERIFICATION_CODES, ...POLICY_CODES].filter((c) => !r.has(c))).toEqual([]);
});

test('every code is documented in spec/verification.md §Error codes', () => {
  const spec = readFileSync(resolve(import.meta.dirname, '../spec/verification.md'), 'utf8');
  const section = spec.slice(spec.indexOf('## Error codes'));
  expect(section.length).toBeGreaterThan(20);
  expect([...VERIFICATION_CODES, ...POLICY_CODES].filter((c) => !section.includes(`\`${c}\``))).toEqual([]);
});
