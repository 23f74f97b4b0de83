/**
 * The words of a verdict (spec/cli.md §Human reports), shared by `aicert verify` and the verifier page (src/web):
 * the ID card rows, what a check that did not run leaves unproven, the file summary, and the one verdict line that
 * says what was proven and what was not. Every untrusted value goes through the one escaper (src/util/escape.ts).
 */
import { cut, nameList, safe } from '../util/escape.js';
import type { Claims, VerifyAibomResult } from './types.js';

/** The files a verifier compared with the bound outputs (the Node CLI's LocalArtifactReport has this shape). */
export interface FilesReport {
  /** Whether missing files counted against `ok` (a whole folder was given). */
  requireAll: boolean;
  matched: readonly { name: string }[];
  missing: readonly string[];
  extra: readonly { name: string }[];
  mismatched: readonly { name: string }[];
  conventional: readonly { name: string; reason: string }[];
}

/** An escaper: the CLI bounds values at the default length, the page keeps them whole and cuts the row itself. */
export type Escape = (v: unknown, max?: number) => string;

/** The ID card: what the certificate says about the model, one [label, value] per fact, every value escaped. */
export function idCardRows(c: Claims, esc: Escape = safe): [string, string][] {
  const out: [string, string][] = [];
  const short = (h: string | undefined, n = 16): string => (h ? (h.length > n ? `${esc(h.slice(0, n))}…` : esc(h)) : '');
  const row = (k: string, v: string | undefined): void => void (v && out.push([k, v]));
  if (c.simulation) row('WARNING', 'simulation mode: nothing below is attested by hardware');
  row('Base model', c.baseModel && `${esc(c.baseModel.repo)} @ ${short(c.baseModel.revision, 12)}`);
  for (const d of c.datasets ?? []) row('Dataset', `${esc(d.repo)} @ ${short(d.revision, 12)}${d.path ? ` (${esc(d.path)})` : ''}`);
  row('Config', c.configSha256 && `sha256 ${short(c.configSha256)}`);
  for (const i of c.images ?? []) row('Image', `${esc(i.name)}  ${short(i.digest, 23)}`);
  for (const o of c.outputs ?? []) row('Output', `${esc(o.name)}  sha256 ${short(o.sha256)}`);
  row('Compute', c.compute && `${c.compute.totalFlos.map((f) => Number(f).toExponential(3)).join(' + ')} FLOPs`);
  const t = c.timing;
  row('Timing', t && [t.finetuneSeconds !== undefined ? `${esc(t.finetuneSeconds)} s fine-tuning` : '', t.startedOn ? `${esc(t.startedOn)} → ${esc(t.finishedOn ?? '?')}` : ''].filter(Boolean).join(', '));
  row('Platform', c.platform && `${esc(c.platform.description)} (AK chains to ${esc(c.platform.anchor)})`);
  row('Quote', c.quote && `TPM clock ${esc(c.quote.clock)} ms, boot #${esc(c.quote.resetCount)}, ${esc(c.quote.pcrSelection)}, firmware ${esc(c.quote.firmwareVersion)}`);
  row('TLS cert', c.tlsCertificateSha256 && `sha256 ${short(c.tlsCertificateSha256)} (bound via PCR 15)`);
  row('Statement', c.statementDigest && `sha256 ${short(c.statementDigest)}${c.builderId ? ` by ${esc(c.builderId)}` : ''}`);
  return out;
}

/**
 * `options.NAME` in a library message → the word a front end uses for that input (its flag, its field); names the
 * table does not hold are left as they are. The one rewrite the CLI (src/cli/flag-words.ts) and the page share.
 */
export function optionWords(text: string, names: Readonly<Record<string, string>>): string {
  return text.replace(/\boptions\.([A-Za-z]+)\b/g, (m, name: string) => (Object.hasOwn(names, name) ? names[name]! : m));
}

/** What a check that did not run leaves unproven, in words, with the option that would have run it (the CLI maps options to flags). */
export const NOT_CHECKED: Readonly<Record<string, string>> = {
  nonce: 'freshness not checked (no options.nonce)',
  'policy.platform': 'boot stack not checked (no options.measurements or options.policy)',
  'policy.pcrs': 'PCR values not checked (no options.measurements or options.policy)',
  'policy.containers': 'container images not checked (no options.containers or options.policy)',
  artifacts: 'weights not checked (no options.artifacts)',
  bootlog: 'no boot event log to replay',
  'quote.ak.attributes': 'AK attributes not shown by the document (its certificate vouches for the key)',
};

/** The hint of a verdict that could not run the platform checks (option names; the CLI maps them to flags). */
export const UNCHECKED_HINT = 'give options.measurements/options.containers or options.policy, or accept with options.allowUncheckedPlatform';

/** The file part of a verdict: how many bound files matched, and which did not (bounded lists, not yet escaped). */
export function filesSummary(a: FilesReport, bound: number): string {
  const parts = [`${a.matched.length} of ${bound} weight file${bound === 1 ? '' : 's'} match`];
  if (a.mismatched.length) parts.push(`mismatched: ${nameList(a.mismatched.map((m) => m.name))}`);
  if (a.missing.length) parts.push(`${a.requireAll ? 'missing' : 'not given'}: ${nameList(a.missing)}`);
  if (a.extra.length) parts.push(`not bound: ${nameList(a.extra.map((m) => m.name))}`);
  if (a.conventional.length) parts.push(`${a.conventional.length} non-output file${a.conventional.length === 1 ? '' : 's'} listed`);
  return parts.join('; ');
}

/** Words for checks that did not run, and the hint for an unchecked platform (the page names its own fields). */
export interface VerdictWords {
  notChecked?: Readonly<Record<string, string>>;
  uncheckedHint?: string;
}

/** The verdict, as one logical line, escaped: what was proven, what was not, or what failed. */
export function verdictText(r: VerifyAibomResult, local: FilesReport | undefined, words: VerdictWords = {}): string {
  const notChecked = words.notChecked ?? NOT_CHECKED;
  const bound = r.claims.outputs?.length ?? 0;
  const artifactFailure = r.error && (r.error.code === 'ARTIFACT_MISMATCH' || r.error.code === 'ARTIFACT_MISSING');
  if (!r.valid && r.error) {
    const what = artifactFailure && local ? filesSummary(local, bound) : cut(r.error.message, 400);
    return safe(`NOT VALID — ${r.error.code}: ${what}`, 2000);
  }
  if (!r.valid) return safe(`NOT VALID — could not check ${r.unchecked.join(', ')} (${words.uncheckedHint ?? UNCHECKED_HINT})`, 2000);
  const proven: string[] = [];
  if (local) proven.push(filesSummary(local, bound));
  for (const c of r.checks) if (c.ok === null) proven.push(notChecked[c.id] ?? `${c.id} not checked`);
  return safe(`VALID — ${proven.length ? proven.join('; ') : 'every check ran and passed'}`, 2000);
}
