/** The verdict on the page: the verdict line, every check with its reason, the ID card with ✓/✗ per output, files. */
import type { VerifyAibomResult } from '../aibom/types.js';
import { filesSummary, idCardRows, NOT_CHECKED, optionWords, verdictText, type VerdictWords } from '../aibom/verdict.js';
import type { HubCompareReport } from '../hub/compare.js';
import { safe } from '../util/escape.js';
import { clear, el, FULL, untrusted } from './dom.js';
import type { WebFilesReport } from './files.js';

/** The CLI's words, with the page's own fields named where the CLI names a flag. */
export const WEB_WORDS: VerdictWords = {
  notChecked: {
    ...NOT_CHECKED,
    nonce: 'freshness not checked (no nonce given)',
    'policy.platform': 'boot stack not checked (no policy given)',
    'policy.pcrs': 'PCR values not checked (no policy given)',
    'policy.containers': 'container images not checked (no policy given)',
    artifacts: 'weights not checked (no weight files or Hub repository given)',
  },
  uncheckedHint: 'give a policy, or tick "accept an unchecked platform"',
};

export interface Shown {
  result: VerifyAibomResult;
  files?: WebFilesReport;
  hub?: HubCompareReport;
}

const MARK = { true: '✓', false: '✗', null: '–' } as const;

/** ✓ / ✗ / – of one bound output, from the local files or the Hub comparison. */
function outputMark(name: string, s: Shown): { mark: string; why: string } {
  const local = s.files?.outputs.get(name);
  const hub = s.hub?.files.find((f) => f.name === name)?.status;
  const st = local ?? hub;
  if (st === 'match') return { mark: '✓', why: s.hub ? 'matches the Hub commit' : 'file matches' };
  if (st === undefined) return { mark: '–', why: 'not checked' };
  if (st === 'not given') return { mark: '–', why: 'not given' };
  return { mark: '✗', why: st };
}

/** The page's names for the library's options (the CLI maps the same words to its flags). */
const FIELDS: Readonly<Record<string, string>> = {
  nonce: 'nonce',
  policy: 'policy',
  measurements: 'policy',
  containers: 'policy',
  artifacts: 'weight files',
  trustAnchors: 'trust root',
  allowUncheckedPlatform: '"accept an unchecked platform"',
  allowSimulation: '"accept simulation mode"',
};

/** `options.NAME` in a library message → the page's name for that input. */
export function pageWords(text: string): string {
  const named = optionWords(text, FIELDS);
  // two options the page gives through one field read once ("policy or policy" → "policy")
  return named.replace(/\b([a-z]+) or \1\b/g, '$1');
}

/** The checks list, the artifacts line naming the files as the CLI does. */
function renderChecks(ul: HTMLElement, s: Shown): void {
  const bound = s.result.claims.outputs?.length ?? 0;
  for (const c of s.result.checks) {
    const li = el('li', c.ok === null ? 'skip' : c.ok ? 'pass' : 'fail');
    li.dataset.check = c.id;
    li.append(el('span', 'mark', MARK[String(c.ok) as 'true']), el('span', 'id', safe(c.id, 80)));
    const detail = c.id === 'artifacts' && s.files ? filesSummary(s.files, bound) : pageWords(c.detail);
    const d = el('span', 'detail');
    if (c.ok === null) d.append(el('span', 'pre', 'not checked: '));
    d.append(untrusted(detail, 400));
    li.append(d);
    ul.append(li);
  }
}

/** The ID card: one row per fact, each output with its ✓/✗. */
function renderCard(table: HTMLElement, s: Shown): void {
  const outputs = s.result.claims.outputs ?? [];
  let k = 0;
  for (const [label, value] of idCardRows(s.result.claims, (v) => safe(v, FULL))) {
    const tr = el('tr');
    const th = el('th', undefined, label);
    const td = el('td');
    if (label === 'Output') {
      const o = outputs[k++]!;
      const m = outputMark(o.name, s);
      tr.className = m.mark === '✓' ? 'pass' : m.mark === '✗' ? 'fail' : 'skip';
      tr.dataset.output = '';
      td.append(el('span', 'mark', m.mark), untrusted(value, 160, false), el('span', 'why', ` ${m.why}`));
    } else td.append(untrusted(value, 160, false));
    tr.append(th, td);
    table.append(tr);
  }
}

/** Files that are not outputs, and the Hub's per-file list. */
function renderFiles(ul: HTMLElement, s: Shown): void {
  for (const c of s.files?.conventional ?? []) {
    const li = el('li', 'skip');
    li.append(el('span', 'mark', '–'), untrusted(c.name, 120), el('span', 'why', ` not an output (${c.reason}): listed, not checked`));
    ul.append(li);
  }
  for (const x of s.files?.extra ?? []) {
    const li = el('li', 'fail');
    li.append(el('span', 'mark', '✗'), untrusted(x.name, 120), el('span', 'why', ' not bound by the certificate'));
    ul.append(li);
  }
  for (const f of s.hub?.files ?? []) {
    const ok = f.status === 'match' ? 'pass' : f.status === 'conventional' ? 'skip' : 'fail';
    const li = el('li', ok);
    li.append(el('span', 'mark', ok === 'pass' ? '✓' : ok === 'skip' ? '–' : '✗'), untrusted(f.name, 120), el('span', 'why', ` ${f.status}`));
    if (f.reason) li.append(el('span', 'why', ': '), untrusted(f.reason, 200));
    ul.append(li);
  }
}

/** Fills the result section. */
export function render(root: HTMLElement, s: Shown): void {
  const $ = (sel: string) => root.querySelector<HTMLElement>(sel)!;
  for (const sel of ['#verdict', '#checks', '#card', '#files', '#warnings']) clear($(sel));
  const verdict = $('#verdict');
  verdict.className = s.result.valid ? 'valid' : 'invalid';
  verdict.append(untrusted(verdictText(s.result, s.files, WEB_WORDS), 2000, false));
  renderChecks($('#checks'), s);
  $('#card-title').textContent = s.result.valid ? 'ID card' : 'ID card (NOT verified: do not rely on it)';
  renderCard($('#card'), s);
  renderFiles($('#files'), s);
  for (const w of s.result.warnings) {
    const li = el('li');
    li.append(untrusted(pageWords(w), 400));
    $('#warnings').append(li);
  }
  root.hidden = false;
}

/** A document that could not be read (malformed input): the error, escaped, as a NOT VALID verdict. */
export function renderError(root: HTMLElement, e: unknown): void {
  const $ = (sel: string) => root.querySelector<HTMLElement>(sel)!;
  for (const sel of ['#verdict', '#checks', '#card', '#files', '#warnings']) clear($(sel));
  const err = e as { name?: string; code?: string; message?: string };
  const verdict = $('#verdict');
  verdict.className = 'invalid';
  verdict.append(untrusted(`NOT VALID — ${err.code ?? err.name ?? 'Error'}: ${pageWords(err.message ?? String(e))}`, 2000));
  $('#card-title').textContent = '';
  root.hidden = false;
}
