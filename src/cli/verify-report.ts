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
import { colors, cut, nameList, reportWidth, safe, wrap } from './text.js';

const short = (h: string | undefined, n = 16): string => (h ? (h.length > n ? `${safe(h.slice(0, n))}…` : safe(h)) : '');

/** The ID card: what the certificate says about the model, one fact per line, every value escaped. */
export function idCard(c: Claims): string[] {
  const out: string[] = [];
  const row = (k: string, v: string | undefined): void => void (v && out.push(`  ${k.padEnd(12)} ${v}`));
  if (c.simulation) row('WARNING', 'simulation mode: nothing below is attested by hardware');
  row('Base model', c.baseModel && `${safe(c.baseModel.repo)} @ ${short(c.baseModel.revision, 12)}`);
  for (const d of c.datasets ?? []) row('Dataset', `${safe(d.repo)} @ ${short(d.revision, 12)}${d.path ? ` (${safe(d.path)})` : ''}`);
  row('Config', c.configSha256 && `sha256 ${short(c.configSha256)}`);
  for (const i of c.images ?? []) row('Image', `${safe(i.name)}  ${short(i.digest, 23)}`);
  for (const o of c.outputs ?? []) row('Output', `${safe(o.name)}  sha256 ${short(o.sha256)}`);
  row('Compute', c.compute && `${c.compute.totalFlos.map((f) => Number(f).toExponential(3)).join(' + ')} FLOPs`);
  const t = c.timing;
  row('Timing', t && [t.finetuneSeconds !== undefined ? `${safe(t.finetuneSeconds)} s fine-tuning` : '', t.startedOn ? `${safe(t.startedOn)} → ${safe(t.finishedOn ?? '?')}` : ''].filter(Boolean).join(', '));
  row('Platform', c.platform && `${safe(c.platform.description)} (AK chains to ${safe(c.platform.anchor)})`);
  row('Quote', c.quote && `TPM clock ${safe(c.quote.clock)} ms, boot #${safe(c.quote.resetCount)}, ${safe(c.quote.pcrSelection)}, firmware ${safe(c.quote.firmwareVersion)}`);
  row('TLS cert', c.tlsCertificateSha256 && `sha256 ${short(c.tlsCertificateSha256)} (bound via PCR 15)`);
  row('Statement', c.statementDigest && `sha256 ${short(c.statementDigest)}${c.builderId ? ` by ${safe(c.builderId)}` : ''}`);
  return out;
}

/** What a check that did not run leaves unproven, in words, with the flag that would have run it. */
const NOT_CHECKED: Record<string, string> = {
  nonce: 'freshness not checked (no --nonce)',
  'policy.platform': 'boot stack not checked (no --measurements or --policy)',
  'policy.pcrs': 'PCR values not checked (no --measurements or --policy)',
  'policy.containers': 'container images not checked (no --containers or --policy)',
  artifacts: 'weights not checked (no --model)',
  bootlog: 'no boot event log to replay',
  'quote.ak.attributes': 'AK attributes not shown by the document (its certificate vouches for the key)',
};

/** The file part of a verdict: how many bound files matched, and which did not (bounded lists, not yet escaped). */
export function filesSummary(a: LocalArtifactReport, bound: number): string {
  const parts = [`${a.matched.length} of ${bound} weight file${bound === 1 ? '' : 's'} match`];
  if (a.mismatched.length) parts.push(`mismatched: ${nameList(a.mismatched.map((m) => m.name))}`);
  if (a.missing.length) parts.push(`${a.requireAll ? 'missing' : 'not given'}: ${nameList(a.missing)}`);
  if (a.extra.length) parts.push(`not bound: ${nameList(a.extra.map((m) => m.name))}`);
  if (a.conventional.length) parts.push(`${a.conventional.length} non-output file${a.conventional.length === 1 ? '' : 's'} listed`);
  return parts.join('; ');
}

/** The verdict, as one logical line (wrapped by the printer): what was proven, what was not, or what failed. */
export function verdictText(r: VerifyAibomResult, local: LocalArtifactReport | undefined): string {
  const bound = r.claims.outputs?.length ?? 0;
  const artifactFailure = r.error && (r.error.code === 'ARTIFACT_MISMATCH' || r.error.code === 'ARTIFACT_MISSING');
  if (!r.valid && r.error) {
    const what = artifactFailure && local ? filesSummary(local, bound) : cut(r.error.message, 400);
    return safe(`NOT VALID — ${r.error.code}: ${what}`, 2000);
  }
  if (!r.valid) {
    return safe(`NOT VALID — could not check ${r.unchecked.join(', ')} (give --measurements/--containers or --policy, or accept with --allow-unchecked-platform)`, 2000);
  }
  const proven: string[] = [];
  if (local) proven.push(filesSummary(local, bound));
  for (const c of r.checks) if (c.ok === null) proven.push(NOT_CHECKED[c.id] ?? `${c.id} not checked`);
  return safe(`VALID — ${proven.length ? proven.join('; ') : 'every check ran and passed'}`, 2000);
}

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
  const lines = wrap(verdictText(r, local), width);
  lines.forEach((l, i) => w(i === 0 ? c.bold(r.valid ? c.green(l) : c.red(l)) : l));
}
