/**
 * Terminal injection (spec/cli.md §Human reports): every untrusted string in a human report is escaped, and no line
 * an attacker writes can start at column 0, so the verdict (the only line starting with VALID / NOT VALID) cannot be
 * imitated. The report is fed hostile claims, checks and warnings as a forged document would carry them.
 */
import { describe, expect, test } from 'vitest';
import type { VerifyAibomResult } from '../src/aibom/types.js';
import { idCard, printVerifyReport } from '../src/cli/verify-report.js';
import { nameList, safe, wrap } from '../src/cli/text.js';

const HOSTILE = [
  'evil\n  Base model   trusted/model @ 0000',
  '\x1b[2J\x1b[H✓ everything fine\rVALID',
  'a\u202egnp.exe',
  'b\u2066x\u2069\u200b\u2028c',
  'nul\0del\x7fc1\x9b31m',
  'x'.repeat(5000),
  `${' '.repeat(200)}VALID — 3 of 3 weight files match`,
  'back\\slash',
];

function report(valid: boolean): string {
  const h = (i: number) => HOSTILE[i % HOSTILE.length]!;
  // A report whose checks carry hostile strings in both outcomes (a shape the verifier never mixes: cast).
  const r = {
    valid,
    checks: HOSTILE.map((d, i) => ({ id: `check.${i}`, ok: i % 2 === 0, detail: d })),
    claims: {
      baseModel: { repo: h(0), uri: h(1), revision: h(2) },
      datasets: [{ repo: h(3), uri: '', revision: h(4), path: h(5) }],
      images: HOSTILE.map((n) => ({ name: n, digest: n })),
      outputs: HOSTILE.map((n) => ({ name: n, sha256: n })),
      platform: { akSubject: h(6), akIssuer: h(7), anchor: h(1), description: h(0) },
      builderId: h(1),
      statementDigest: h(2),
    },
    warnings: HOSTILE,
    unchecked: valid ? [] : [h(0)],
    ...(valid ? {} : { error: { name: 'VerificationError', code: 'ARTIFACT_MISMATCH\nVALID', message: h(0) } }),
  } as unknown as VerifyAibomResult;
  const lines: string[] = [];
  printVerifyReport(r, undefined, (s) => lines.push(s));
  return lines.join('\n') + '\n';
}

describe('hostile strings in the human report', () => {
  for (const valid of [true, false]) {
    test(`${valid ? 'VALID' : 'NOT VALID'} report: no control or invisible format character reaches the terminal`, () => {
      const out = report(valid);
      // only our own newlines; no ESC, CR, NUL, C1, bidi override, isolate, zero-width or line separator
      expect(out).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}](?<!\n)/u);
    });

    test(`${valid ? 'VALID' : 'NOT VALID'} report: one verdict line, the last block; no forged ID card line`, () => {
      const lines = report(valid).trimEnd().split('\n');
      const verdicts = lines.map((l, i) => [l, i] as const).filter(([l]) => /^(NOT )?VALID/.test(l));
      expect(verdicts).toHaveLength(1);
      const at = verdicts[0]![1];
      // after the verdict only its own indented continuation lines
      for (const l of lines.slice(at + 1)) expect(l).toMatch(/^ {2}\S/);
      expect(lines[at]).toMatch(valid ? /^VALID — / : /^NOT VALID — ARTIFACT_MISMATCH\\nVALID: /);
      // exactly one Base model row: the newline in the repo name did not forge a second one
      expect(lines.filter((l) => /^ {2}Base model/.test(l))).toHaveLength(1);
      // every line starts with one of the report's own prefixes
      for (const l of lines) expect(l).toMatch(/^(|[✓✗–] \S.*|ID card.*|  \S.*|!( .*)?|(NOT )?VALID — .*)$/u);
    });
  }

  test('long strings are bounded, and runs of spaces cannot push text onto a fresh screen line', () => {
    expect(safe('x'.repeat(5000)).length).toBeLessThan(260);
    expect(safe(`${' '.repeat(200)}VALID`)).toBe(' \\x20×200 VALID');
    expect(safe('a\u202eb')).toBe('a\\u{202e}b');
    expect(safe('\x1b[31m')).toBe('\\x1b[31m');
    expect(safe('\ud800')).toBe('\\u{d800}');
  });

  test('name lists are bounded then counted; wrapping indents continuation lines', () => {
    expect(nameList(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toBe('a, b, c, d, e and 2 more');
    expect(wrap('one two three four', 9)).toEqual(['one two', '  three', '  four']);
  });

  test('the ID card escapes every value', () => {
    const card = idCard({ baseModel: { repo: 'a\nb', uri: '', revision: 'c\u202e' }, outputs: [{ name: 'o\r', sha256: '\x1b' }] });
    expect(card.join('\n')).not.toMatch(/[\r\x1b\u202e]/);
    expect(card).toHaveLength(2);
  });
});

describe('Hub report lines (aicert-verify --hf)', () => {
  test('untrusted names and reasons are escaped once, by the one escaper (src/util/escape.ts)', async () => {
    const { hubReportLines } = await import('../src/node/hub-verify.js');
    const c = 'c'.repeat(40);
    const lines = hubReportLines({
      ok: false,
      ref: `o/n@${c}`,
      commit: c,
      files: [{ name: 'a\x1b[31mb\u202e\\c', status: 'extra', reason: 'r\nVALID' }],
      counts: { match: 0, mismatch: 0, missing: 0, extra: 1, conventional: 0, unverifiable: 0 },
    });
    expect(lines[1]).toBe('  ✗ a\\x1b[31mb\\u{202e}\\\\c  extra: r\\nVALID');
    expect(lines.join('\n')).not.toMatch(/[\p{Cc}\p{Cf}](?<!\n)/u);
  });
});

describe('the runner log stream on the terminal', () => {
  test('escape sequences (clipboard write, screen clear) and bidi overrides are escaped; each line stays a line', async () => {
    // aicert finetune's default sink for the runner's log (src/launcher/finetune.ts): LogLines over stderr
    const { LogLines } = await import('../src/node/stderr.js');
    const written: string[] = [];
    const lines = new LogLines((t) => void written.push(t));
    lines.write('step 1\r\x1b]52;c;ZXZpbA==\x07 loss 0.1\n\x1b[2Jdone\t\u202eok\\path\n');
    lines.end();
    const out = written.join('');
    expect(out).not.toMatch(/[\x1b\x07\u202e]/);
    expect(out.split('\n')).toEqual(['step 1', '\\x1b]52;c;ZXZpbA==\\x07 loss 0.1', expect.stringMatching(/^\\x1b\[2Jdone.*\\u\{202e\}ok/), '']);
  });
});
