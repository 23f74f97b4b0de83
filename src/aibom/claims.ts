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

/** Multiset equality of two lists of canonical keys (counted, so linear in their length); names the first difference. */
function sameMultiset(what: string, fromStatement: string[], fromEvents: string[]): void {
  const count = new Map<string, number>();
  for (const x of fromStatement) count.set(x, (count.get(x) ?? 0) + 1);
  for (const x of fromEvents) count.set(x, (count.get(x) ?? 0) - 1);
  if ([...count.values()].every((n) => n === 0)) return;
  const a = [...fromStatement].sort();
  const b = [...fromEvents].sort();
  const onlyS = a.find((x) => count.get(x)! > 0);
  const onlyE = b.find((x) => count.get(x)! < 0);
  const say = onlyS !== undefined ? `statement has ${onlyS} more often than the events measured it` : `events measured ${onlyE} more often than the statement has it`;
  mismatch(`${what}: ${say}`, { statement: a, events: b });
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
  const subjects = (statement.subject as Obj[]).map((s) => `${String(s.name)}=${String((s.digest as Obj).sha256 ?? '').toLowerCase()}`);
  sameMultiset('subjects', subjects, (f.outputs ?? []).map((o) => `${o.name}=${o.sha256}`));
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
    if (isObj(b) && b.name === 'timing' && a.finetune_time !== undefined && !f.finetuneSeconds.includes(Number(a.finetune_time))) mismatch('byproduct timing differs from the measured timing event');
    if (isObj(b) && b.name === 'compute' && a.total_flos !== undefined && !f.totalFlos.includes(Number(a.total_flos))) mismatch('byproduct compute differs from the measured compute_consumed event');
  }
  if (isObj(bd.externalParameters) && bd.externalParameters.config !== undefined) c.config = bd.externalParameters.config;
  return c;
}
