/**
 * The aicert policy (spec/policy.md): golden PCR values (allowed sets per PCR and bank), golden boot-event digests,
 * container image ids, allowed base models and datasets (repo@revision) and required app events. Also reads the
 * original formats (`measurements_azure.json`, `container_measurements.json`) and builds a policy from a known-good
 * event log. Unknown policy fields are refused: a misspelt rule must never silently check nothing.
 */
import { MalformedInputError } from '../errors.js';
import { extendsPcr, initialPcrValue, replay } from '../eventlog/replay.js';
import type { EventLog } from '../eventlog/types.js';
import { attributeOid } from '../tpm/x509-name.js';
import { toHex } from '../util/bytes.js';
import { digestSize, hashAlgByName, hashName } from '../util/hash.js';
import { arr, lowerHex, obj, parseStrictJson, str, type Obj } from './json.js';
import { parseCvmPolicy, type CvmPolicy } from './cvm-evidence.js';

export const POLICY_V1_TYPE = 'https://aicert.dev/policy/v1';

/** Golden boot events for one PCR: the digests extended into it, per bank. */
export interface BootEventRule {
  /** `sequence` (default): exactly these digests in this order. `subset`: every event's digest is one of these. */
  match: 'sequence' | 'subset';
  digests: Record<string, string[]>;
}

export interface Policy {
  /** Bank name -> PCR index -> allowed values (lowercase hex). */
  pcrs?: Record<string, Record<string, string[]>>;
  /** PCR index -> rule. Requires a boot event log in the document. */
  bootEvents?: Record<string, BootEventRule>;
  /** Image name -> allowed ids (`sha256:<hex>`). Every measured image must be listed. */
  containers?: Record<string, string[]>;
  /** Allowed `ORG/REPO@<revision>` for the base model and for datasets. */
  baseModels?: string[];
  datasets?: string[];
  /** App events that must occur exactly once each, in this order: `<event_type>` or `<event_type>:<qualifier>`. */
  requiredEvents?: string[];
  /** Accepted AK certificate subject substrings (e.g. `.TrustedVM.Azure.Microsoft`). */
  platformSubjects?: string[];
  /** Accept AIBOMs whose trainer ran without a sandbox (training_sandbox backend "none"); default refused. */
  allowUnconfinedTraining?: boolean;
  /** Confidential-VM hardware claims (spec/policy.md §confidentialVm). */
  confidentialVm?: CvmPolicy;
  description?: string;
}

const FIELDS = new Set(['_type', 'description', 'pcrs', 'bootEvents', 'containers', 'baseModels', 'datasets', 'requiredEvents', 'platformSubjects', 'allowUnconfinedTraining', 'confidentialVm']);

/** Validates a bank map `{"sha256": {...}}`; returns the bank's digest size. */
function bankSize(bank: string, path: string): number {
  const alg = hashAlgByName(bank);
  const size = alg === undefined ? undefined : digestSize(alg);
  if (alg === undefined || size === undefined || hashName(alg) !== bank) throw new MalformedInputError(`unknown bank "${bank}" (use e.g. sha256)`, { path });
  return size;
}

function pcrIndex(k: string, path: string): void {
  if (!/^(?:\d|1\d|2[0-3])$/.test(k)) throw new MalformedInputError(`bad PCR index "${k}"`, { path });
}

function hexList(v: unknown, path: string, size: number): string[] {
  const list = typeof v === 'string' ? [v] : arr(v, path);
  if (list.length === 0) throw new MalformedInputError('empty allowed set', { path });
  return list.map((h, i) => toHex(lowerHex(h, `${path}[${i}]`, size)));
}

const PINNED = /^[A-Za-z0-9][\w.-]*(?:\/[\w.-]+)?@[0-9a-f]{40}$/;
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

/** Parses and validates a policy (object, JSON text or bytes). Malformed policies are MalformedInputError. */
export function parsePolicy(input: Policy | Obj | string | Uint8Array): Policy {
  const o = obj(typeof input === 'string' || input instanceof Uint8Array ? parseStrictJson(input, 'policy') : input, 'policy');
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) throw new MalformedInputError(`unknown policy field "${k.slice(0, 40)}"`, { path: `policy.${k}` });
  if (o._type !== undefined && o._type !== POLICY_V1_TYPE) throw new MalformedInputError(`policy _type is not ${POLICY_V1_TYPE}`, { path: 'policy._type' });
  const p: Policy = {};
  if (o.description !== undefined) p.description = str(o.description, 'policy.description');
  if (o.pcrs !== undefined) {
    p.pcrs = {};
    for (const [bank, m] of Object.entries(obj(o.pcrs, 'policy.pcrs'))) {
      const size = bankSize(bank, `policy.pcrs.${bank}`);
      const out: Record<string, string[]> = (p.pcrs[bank] = {});
      for (const [k, v] of Object.entries(obj(m, `policy.pcrs.${bank}`))) {
        pcrIndex(k, `policy.pcrs.${bank}.${k}`);
        out[k] = hexList(v, `policy.pcrs.${bank}.${k}`, size);
      }
    }
  }
  if (o.bootEvents !== undefined) {
    p.bootEvents = {};
    for (const [k, v] of Object.entries(obj(o.bootEvents, 'policy.bootEvents'))) {
      const path = `policy.bootEvents.${k}`;
      pcrIndex(k, path);
      const r = obj(v, path);
      const match = r.match ?? 'sequence';
      if (match !== 'sequence' && match !== 'subset') throw new MalformedInputError('match must be "sequence" or "subset"', { path: `${path}.match` });
      const digests: Record<string, string[]> = {};
      for (const [bank, list] of Object.entries(r)) {
        if (bank === 'match') continue;
        const size = bankSize(bank, `${path}.${bank}`);
        digests[bank] = arr(list, `${path}.${bank}`).map((h, i) => toHex(lowerHex(h, `${path}.${bank}[${i}]`, size)));
      }
      if (Object.keys(digests).length === 0) throw new MalformedInputError('no bank of digests', { path });
      p.bootEvents[k] = { match, digests };
    }
  }
  if (o.containers !== undefined) p.containers = parseContainers(o.containers, 'policy.containers');
  if (o.confidentialVm !== undefined) p.confidentialVm = parseCvmPolicy(o.confidentialVm);
  for (const f of ['baseModels', 'datasets'] as const) {
    if (o[f] === undefined) continue;
    p[f] = arr(o[f], `policy.${f}`).map((s, i) => {
      const raw = str(s, `policy.${f}[${i}]`);
      // Model and dataset namespaces stay apart: a base model is never named by a datasets/ reference.
      if (f === 'baseModels' && /^(?:https:\/\/huggingface\.co\/)?datasets\//.test(raw)) throw new MalformedInputError('a base model cannot be a datasets/ repository', { path: `policy.${f}[${i}]` });
      const v = normaliseRepoRef(raw);
      if (!PINNED.test(v)) throw new MalformedInputError('expected ORG/REPO@<40-hex commit>', { path: `policy.${f}[${i}]` });
      return v;
    });
  }
  if (o.allowUnconfinedTraining !== undefined) {
    if (typeof o.allowUnconfinedTraining !== 'boolean') throw new MalformedInputError('allowUnconfinedTraining must be true or false', { path: 'policy.allowUnconfinedTraining' });
    p.allowUnconfinedTraining = o.allowUnconfinedTraining;
  }
  if (o.requiredEvents !== undefined) p.requiredEvents = arr(o.requiredEvents, 'policy.requiredEvents').map((s, i) => str(s, `policy.requiredEvents[${i}]`));
  if (o.platformSubjects !== undefined) {
    p.platformSubjects = arr(o.platformSubjects, 'policy.platformSubjects').map((s, i) => {
      const subject = str(s, `policy.platformSubjects[${i}]`);
      parsePlatformSubject(subject, `policy.platformSubjects[${i}]`);
      return subject;
    });
  }
  return p;
}

/** A platform subject rule: one attribute of the AK subject, equal to `value` or (suffix) ending with it. */
export interface PlatformSubjectRule {
  oid: string;
  value: string;
  suffix: boolean;
}

/**
 * `ATTR=VALUE` (ATTR a short name such as CN, O, OU or a dotted OID; VALUE `*.rest` matches a value ending in
 * `.rest`), or a bare `.suffix` / `value` meaning a CN ending in `.suffix` / equal to `value`. Case-insensitive
 * values. Anything that could match every subject (empty attribute or value, `=`, `*`) is malformed.
 */
export function parsePlatformSubject(s: string, path: string): PlatformSubjectRule {
  const eq = s.indexOf('=');
  const attr = eq < 0 ? 'CN' : s.slice(0, eq).trim();
  let value = eq < 0 ? s : s.slice(eq + 1);
  const oid = attributeOid(attr);
  if (!oid) throw new MalformedInputError(`unknown subject attribute "${attr.slice(0, 40)}" (use e.g. CN, O, OU)`, { path });
  let suffix = eq < 0 && value.startsWith('.');
  if (value.startsWith('*.')) {
    suffix = true;
    value = value.slice(1);
  }
  if (value.replace(/^\./, '') === '' || value.includes('*')) throw new MalformedInputError('empty or wildcard platform subject value (it would match every subject)', { path });
  return { oid, value: value.toLowerCase(), suffix };
}

/** True when one of the subject's parsed attributes meets the rule (never a substring of the rendered subject). */
export function subjectMatches(rule: PlatformSubjectRule, attrs: { oid: string; value: string }[]): boolean {
  return attrs.some((a) => a.oid === rule.oid && (rule.suffix ? a.value.toLowerCase().endsWith(rule.value) : a.value.toLowerCase() === rule.value));
}

/** `https://huggingface.co/[datasets/]ORG/REPO@rev` or `ORG/REPO@rev` -> `ORG/REPO@rev`. */
export function normaliseRepoRef(s: string): string {
  return s.replace(/^https:\/\/huggingface\.co\//, '').replace(/^datasets\//, '');
}

/** Container ids: `{"<image>": "sha256:<hex>" | [...]}` (the original container_measurements.json is this form). */
export function parseContainers(input: unknown, path = 'containers'): Record<string, string[]> {
  const o = obj(typeof input === 'string' || input instanceof Uint8Array ? parseStrictJson(input, path) : input, path);
  // Image names are data: no prototype, so "__proto__" is a key and "constructor" is not an inherited entry.
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [name, v] of Object.entries(o)) {
    const list = typeof v === 'string' ? [v] : arr(v, `${path}.${name}`);
    out[name] = list.map((id, i) => {
      const s = str(id, `${path}.${name}[${i}]`).toLowerCase();
      if (!IMAGE_ID.test(s)) throw new MalformedInputError('expected sha256:<64 hex>', { path: `${path}.${name}` });
      return s;
    });
  }
  return out;
}

/** The original golden values `{"measurements": {"<pcr>": "<hex>"}}` (sha256 bank) as a policy. */
export function policyFromMeasurements(input: unknown): Policy {
  const o = obj(typeof input === 'string' || input instanceof Uint8Array ? parseStrictJson(input, 'measurements') : input, 'measurements');
  const m = obj(o.measurements, 'measurements.measurements');
  const sha256: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(m)) {
    pcrIndex(k, `measurements.measurements.${k}`);
    sha256[k] = hexList(typeof v === 'string' ? v.toLowerCase() : v, `measurements.measurements.${k}`, 32);
  }
  return { pcrs: { sha256 } };
}

/** Combines policies: every rule of every policy must hold (allowed sets for one PCR intersect). */
export function mergePolicies(list: Policy[]): Policy {
  const out: Policy = {};
  const inter = (a: string[] | undefined, b: string[]): string[] => (a ? a.filter((x) => b.includes(x)) : [...b]);
  for (const p of list) {
    for (const [bank, m] of Object.entries(p.pcrs ?? {})) for (const [k, v] of Object.entries(m)) ((out.pcrs ??= {})[bank] ??= {})[k] = inter(out.pcrs?.[bank]?.[k], v);
    if (p.containers) {
      // Every source's list must allow the image: names one source lacks are dropped, ids intersect, and an
      // empty list (or object) still is a rule that allows no image.
      const next = Object.create(null) as Record<string, string[]>;
      for (const [k, v] of Object.entries(p.containers)) {
        if (!out.containers) next[k] = [...v];
        else if (Object.hasOwn(out.containers, k)) next[k] = inter(out.containers[k], v);
      }
      out.containers = next;
    }
    for (const [k, v] of Object.entries(p.bootEvents ?? {})) {
      if (out.bootEvents?.[k]) throw new MalformedInputError(`two policies give boot events for PCR ${k}`, { path: `policy.bootEvents.${k}` });
      (out.bootEvents ??= {})[k] = v;
    }
    if (p.baseModels) out.baseModels = out.baseModels ? out.baseModels.filter((x) => p.baseModels!.includes(x)) : [...p.baseModels];
    if (p.datasets) out.datasets = out.datasets ? out.datasets.filter((x) => p.datasets!.includes(x)) : [...p.datasets];
    if (p.requiredEvents) out.requiredEvents = [...(out.requiredEvents ?? []), ...p.requiredEvents];
    // Merged policies allow unconfined training only when every one that speaks of it allows it.
    if (p.allowUnconfinedTraining !== undefined) out.allowUnconfinedTraining = (out.allowUnconfinedTraining ?? true) && p.allowUnconfinedTraining;
    // "Any of these subjects" lists cannot be intersected by substring: two of them are refused, like boot events.
    if (p.confidentialVm) {
      if (out.confidentialVm) throw new MalformedInputError('two policies give confidentialVm rules', { path: 'policy.confidentialVm' });
      out.confidentialVm = p.confidentialVm;
    }
    if (p.platformSubjects) {
      if (out.platformSubjects) throw new MalformedInputError('two policies give platform subjects', { path: 'policy.platformSubjects' });
      out.platformSubjects = [...p.platformSubjects];
    }
  }
  return out;
}

/**
 * A policy from a known-good event log: the replayed value of each chosen PCR as its only allowed value, and the
 * exact digest sequence of each chosen PCR as golden boot events. Default PCRs: every PCR the log extends.
 */
export function policyFromLog(log: EventLog, pcrs?: readonly number[]): Policy {
  const values = replay(log, pcrs ? { pcrs } : {});
  const chosen = pcrs ? [...pcrs] : [...new Set(log.events.filter(extendsPcr).map((e) => e.pcr))];
  chosen.sort((a, b) => a - b);
  const p: Policy = { pcrs: {}, bootEvents: {} };
  // A chosen PCR without events keeps its initial value.
  for (const alg of new Set([...log.banks, ...values.keys()])) {
    const bank: Record<string, string[]> = (p.pcrs![hashName(alg)] = {});
    for (const pcr of chosen) bank[String(pcr)] = [toHex(values.get(alg)?.get(pcr) ?? initialPcrValue(log, alg, pcr))];
  }
  for (const pcr of chosen) {
    const evs = log.events.filter((e) => extendsPcr(e) && e.pcr === pcr);
    if (evs.length === 0) continue;
    const digests: Record<string, string[]> = {};
    for (const alg of log.banks) {
      if (evs.every((e) => e.digests.some((d) => d.alg === alg))) digests[hashName(alg)] = evs.map((e) => toHex(e.digests.find((d) => d.alg === alg)!.digest));
    }
    p.bootEvents![String(pcr)] = { match: 'sequence', digests };
  }
  return p;
}

/** JSON form of a policy, with the version type first. */
export function policyToJson(p: Policy): Obj {
  const out: Obj = { _type: POLICY_V1_TYPE };
  for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = v;
  // Boot events are written flat: {"<pcr>": {"match": ..., "<bank>": [...]}}.
  if (p.bootEvents) out.bootEvents = Object.fromEntries(Object.entries(p.bootEvents).map(([k, r]) => [k, { match: r.match, ...r.digests }]));
  return out;
}
