/**
 * Claims: the model's ID card, read from the measured app events (and, for v1, checked against the signed-over
 * statement: resolvedDependencies and subjects must say exactly what the PCR 14 inputs and PCR 8 outputs say,
 * spec/aibom-v1.md §5, step 8). A disagreement is VerificationError CLAIMS_MISMATCH.
 */
import { VerificationError } from '../errors.js';
import type { AppFacts } from './events.js';
import { repoOf } from './events.js';
import { isObj, type Obj } from './json.js';
import type { Claims, PinnedRepo } from './types.js';

const mismatch = (msg: string, details?: Record<string, unknown>): never => {
  throw new VerificationError('CLAIMS_MISMATCH', msg, details);
};

/** Claims that come from the events alone. */
export function claimsFromFacts(f: AppFacts): Claims {
  const c: Claims = {};
  if (f.models.length === 1) c.baseModel = f.models[0]!;
  if (f.datasets.length) c.datasets = f.datasets;
  if (f.config) {
    c.configSha256 = f.config.sha256;
    if (f.config.file !== undefined) c.config = f.config.file;
  }
  if (f.images.length) c.images = f.images;
  if (f.outputs) c.outputs = f.outputs;
  if (f.totalFlos.length) c.compute = { totalFlos: f.totalFlos };
  if (f.finetuneSeconds.length) c.timing = { finetuneSeconds: f.finetuneSeconds.reduce((a, b) => a + b, 0) };
  return c;
}

/** Multiset equality of two lists of canonical keys (each key as often on both sides), linear; names the first difference. */
export function sameMultiset(what: string, fromStatement: string[], fromEvents: string[]): void {
  const count = new Map<string, number>();
  for (const x of fromStatement) count.set(x, (count.get(x) ?? 0) + 1);
  for (const x of fromEvents) count.set(x, (count.get(x) ?? 0) - 1);
  for (const [k, n] of count) {
    if (n === 0) continue;
    const say = n > 0 ? `statement has ${k} ${n} more time(s) than the events measured it` : `events measured ${k} ${-n} more time(s) than the statement states it`;
    mismatch(`${what}: ${say}`, { statementCount: fromStatement.length, eventCount: fromEvents.length });
  }
}

/**
 * sameMultiset for subjects vs measured outputs without building a `name=sha256` key per side. Pairs equal at the
 * same index are removed from both sides (the runner states subjects in the outputs' order); for the rest, output
 * names are unique (readOutputs), so the multisets are equal exactly when each subject takes a distinct output of the
 * same name and digest and none is left over. Falls back to sameMultiset if those names are not unique.
 */
function sameOutputs(subjects: Obj[], outputs: { name: string; sha256: string }[]): void {
  const nameOf = (s: Obj): string => String(s.name);
  const shaOf = (s: Obj): string => String((s.digest as Obj).sha256 ?? '').toLowerCase();
  let i = 0;
  while (i < subjects.length && i < outputs.length && nameOf(subjects[i]!) === outputs[i]!.name && shaOf(subjects[i]!) === outputs[i]!.sha256) i++;
  if (i === subjects.length && i === outputs.length) return;
  const restS = subjects.slice(i);
  const restE = outputs.slice(i);
  const left = new Map<string, string>();
  for (const o of restE) left.set(o.name, o.sha256);
  if (left.size !== restE.length) return sameMultiset('subjects', restS.map((s) => `${nameOf(s)}=${shaOf(s)}`), restE.map((o) => `${o.name}=${o.sha256}`));
  const counts = { statementCount: subjects.length, eventCount: outputs.length };
  for (const s of restS) {
    const name = nameOf(s);
    const sha = shaOf(s);
    // Taken off once matched: a second subject of the same name and digest finds nothing left.
    if (left.get(name) !== sha) mismatch(`subjects: statement has ${name}=${sha} more times than the events measured it`, counts);
    left.delete(name);
  }
  for (const [name, sha] of left) mismatch(`subjects: events measured ${name}=${sha} more times than the statement states it`, counts);
}

/** Canonical JSON text (sorted keys) for comparing two parsed JSON values exactly. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}

/** A byproduct number must be a JSON number equal to one measured value (no strings, lists or hex). */
function sameNumber(v: unknown, measured: number[]): boolean {
  return typeof v === 'number' && measured.includes(v);
}

// The model is pinned by repo@commit; a dataset also by its file (annotations.path), spec/aibom-v1.md §4.
const modelKey = (r: PinnedRepo): string => `${r.repo}@${r.revision}`;
const datasetKey = (r: PinnedRepo): string => `${r.repo}@${r.revision}#${r.path ?? ''}`;

/**
 * v1 only: the statement must state exactly the measured inputs and outputs. Returns the statement-derived claims
 * (timing, builder) merged over the event claims.
 */
export function checkStatement(statement: Obj, f: AppFacts, base: Claims): Claims {
  const pred = statement.predicate as Obj;
  const bd = pred.buildDefinition as Obj;
  const deps = (Array.isArray(bd.resolvedDependencies) ? bd.resolvedDependencies : []).map((d, i) => {
    if (!isObj(d) || !isObj(d.digest)) return mismatch(`resolvedDependencies[${i}] is not {name, digest}`);
    const role = isObj(d.annotations) ? d.annotations.role : undefined;
    return { d, role, i };
  });
  const byRole = (r: string): { d: Obj; i: number }[] => deps.filter((x) => x.role === r);
  const unknown = deps.find((x) => !['model', 'dataset', 'image', 'config'].includes(String(x.role)));
  if (unknown) mismatch(`resolvedDependencies[${unknown.i}] has role "${String(unknown.role)}" (model, dataset, image or config)`);
  const pinned = (x: { d: Obj; i: number }): PinnedRepo => {
    const uri = x.d.uri;
    const commit = (x.d.digest as Obj).gitCommit;
    if (typeof uri !== 'string' || typeof commit !== 'string') return mismatch(`resolvedDependencies[${x.i}] lacks uri or digest.gitCommit`);
    const path = isObj(x.d.annotations) && typeof x.d.annotations.path === 'string' ? x.d.annotations.path : undefined;
    return { repo: repoOf(uri, `statement.predicate.buildDefinition.resolvedDependencies[${x.i}].uri`).repo, uri, revision: commit.toLowerCase(), ...(path ? { path } : {}) };
  };
  // Inputs: models, datasets, images and config, each exactly as often as measured.
  sameMultiset('base model', byRole('model').map(pinned).map(modelKey), f.models.map(modelKey));
  sameMultiset('datasets', byRole('dataset').map(pinned).map(datasetKey), f.datasets.map(datasetKey));
  const sha = (x: { d: Obj; i: number }): string => String((x.d.digest as Obj).sha256 ?? '').toLowerCase();
  sameMultiset('images', byRole('image').map((x) => `${String(x.d.name)}=sha256:${sha(x)}`), f.images.map((m) => `${m.name}=${m.digest}`));
  sameMultiset('config', byRole('config').map(sha), f.config ? [f.config.sha256] : []);
  // Outputs: every subject is a measured output with the same sha256, and vice versa.
  sameOutputs(statement.subject as Obj[], f.outputs ?? []);
  const c: Claims = { ...base };
  const rd = pred.runDetails as Obj;
  c.builderId = String((rd.builder as Obj).id);
  const md = isObj(rd.metadata) ? rd.metadata : {};
  const timing = { ...(c.timing ?? {}) };
  if (typeof md.startedOn === 'string') timing.startedOn = md.startedOn;
  if (typeof md.finishedOn === 'string') timing.finishedOn = md.finishedOn;
  if (Object.keys(timing).length) c.timing = timing;
  // Byproducts, when present, must repeat the measured timing and compute.
  for (const b of Array.isArray(rd.byproducts) ? rd.byproducts : []) {
    const a = isObj(b) && isObj(b.annotations) ? b.annotations : {};
    if (isObj(b) && b.name === 'timing' && a.finetune_time !== undefined && !sameNumber(a.finetune_time, f.finetuneSeconds)) mismatch('byproduct timing differs from the measured timing event');
    if (isObj(b) && b.name === 'compute' && a.total_flos !== undefined && !sameNumber(a.total_flos, f.totalFlos)) mismatch('byproduct compute differs from the measured compute_consumed event');
  }
  // The configuration shown is the measured one; a statement copy must be exactly it (never shown instead of it).
  if (isObj(bd.externalParameters) && bd.externalParameters.config !== undefined) {
    const measured = f.config?.file;
    if (measured === undefined || canonical(bd.externalParameters.config) !== canonical(measured)) {
      mismatch('externalParameters.config differs from the configuration the axolotl_configuration event measured');
    }
  }
  return c;
}
