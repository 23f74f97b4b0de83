/**
 * The human report of `aicert verify` (spec/cli.md §Human reports): ✓/✗/– per check, the ID card, warnings, and one
 * verdict line that says what was proven and what was not. Every untrusted string is escaped (text.ts), so no line
 * an attacker writes can start at column 0; the verdict is always the last line and the only one that starts with
 * `VALID` or `NOT VALID`.
 */
import type { Claims, VerifyAibomResult } from '../aibom/types.js';
import type { LocalArtifactReport } from '../node/artifacts.js';
import { flagWords } from './flag-words.js';
import { printChecks } from './io.js';
import { colors, reportWidth, safe, wrap } from './text.js';
import { filesSummary, idCardRows, NOT_CHECKED, UNCHECKED_HINT, verdictText, type VerdictWords } from '../aibom/verdict.js';

/** The ID card lines: what the certificate says about the model, one fact per line, every value escaped. */
export function idCard(c: Claims): string[] {
  return idCardRows(c).map(([k, v]) => `  ${k.padEnd(12)} ${v}`);
}

export { filesSummary, verdictText };

/** The verdict's words with the library's option names turned into this CLI's flags. */
export const CLI_WORDS: VerdictWords = {
  notChecked: Object.fromEntries(Object.entries(NOT_CHECKED).map(([k, v]) => [k, flagWords(v)])),
  uncheckedHint: flagWords(UNCHECKED_HINT),
};

/** Human report: checks, ID card, conventional files, warnings, verdict (last line). */
export function printVerifyReport(r: VerifyAibomResult, local: LocalArtifactReport | undefined, w: (s: string) => void): void {
  const width = reportWidth();
  const bound = r.claims.outputs?.length ?? 0;
  // the artifacts line names the files from the local report, bounded, instead of the library's full lists
  const checks = local ? r.checks.map((c) => (c.id === 'artifacts' ? { ...c, detail: filesSummary(local, bound) } : c)) : r.checks;
  printChecks(checks, w);
  const card = idCard(r.claims);
  if (card.length) {
    w('');
    w(r.valid ? 'ID card' : 'ID card (NOT verified: do not rely on it)');
    card.forEach(w);
  }
  if (local?.conventional.length) {
    w('');
    w('Not outputs (listed, not checked):');
    for (const c of local.conventional.slice(0, 20)) w(`  ${safe(c.name, 120)}  (${safe(flagWords(c.reason))})`);
    if (local.conventional.length > 20) w(`  … and ${local.conventional.length - 20} more`);
  }
  if (r.warnings.length) {
    w('');
    for (const x of r.warnings) wrap(`! ${safe(flagWords(x), 400)}`, width).forEach(w);
  }
  w('');
  const c = colors();
  const lines = wrap(verdictText(r, local, CLI_WORDS), width);
  lines.forEach((l, i) => w(i === 0 ? c.bold(r.valid ? c.green(l) : c.red(l)) : l));
}
