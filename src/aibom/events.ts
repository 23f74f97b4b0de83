/**
 * App events of the original aicert server and of AIBOM v1 (PCR 14 inputs, PCR 8 outputs): each stored string is
 * `{"event_type": ..., "content": {"spec": {...}, "resolved": {...}}}`. Strings are hashed verbatim elsewhere; here
 * they are only read. Layout: spec/aibom-v1.md §4 (as mithril-security/aicert event_log.py writes it).
 */
import { MalformedInputError, VerificationError } from '../errors.js';
import { isObj, parseStrictJson, type Obj } from './json.js';
import type { PinnedRepo } from './types.js';

/** A decoded app event: its type and content, where it sits, and the exact string. */
export interface AppEvent {
  pcr: 14 | 8;
  index: number;
  type: string;
  content: Obj | unknown[];
  raw: string;
}

/** Decoded inputs and outputs. */
export interface AppFacts {
  events: AppEvent[];
  config?: { sha256: string; file: unknown };
  images: { name: string; digest: string }[];
  models: PinnedRepo[];
  datasets: PinnedRepo[];
  finetuneSeconds: number[];
  totalFlos: number[];
  outputs?: { name: string; sha256: string }[];
  statementDigest?: string;
  /** The training_sandbox event (runner area, spec/runner-protocol.md): how the trainer was confined. */
  sandbox?: { backend: string };
}

const HF = /^https:\/\/huggingface\.co\/(datasets\/)?([A-Za-z0-9][\w.-]*\/[\w.-]+|[\w.-]+)\/?$/;

/**
 * Parses every stored string. Strict (v1): a string that is not an event object is MalformedInputError. Lenient
 * (original documents): such a string stays measured but uninterpreted (type '') and is reported as a warning.
 */
export function decodeEvents(pcr: 14 | 8, strings: string[], strict = true, warnings: string[] = []): AppEvent[] {
  return strings.map((raw, index) => {
    const path = `${pcr === 14 ? 'pcr14' : 'pcr8'}[${index}]`;
    try {
      const v = parseStrictJson(raw, `app event ${path}`);
      if (!isObj(v) || typeof v.event_type !== 'string') throw new MalformedInputError('app event is not {"event_type": ...}', { path });
      const content = v.content;
      if (!isObj(content) && !Array.isArray(content)) throw new MalformedInputError('app event content is not an object or list', { path });
      return { pcr, index, type: v.event_type, content, raw };
    } catch (e) {
      if (strict || !(e instanceof MalformedInputError)) throw e;
      warnings.push(`${path}: not an aicert event (${e.message}); measured but not interpreted`);
      return { pcr, index, type: '', content: {}, raw };
    }
  });
}

/**
 * Normalises a measured hash to lowercase hex. Accepts `<hex>`, `<alg>:<hex>` and the original's
 * `sha1:b'<hex>\n'` (a Python bytes repr of git output), recording that quirk as a warning.
 */
export function normaliseHash(s: unknown, path: string, warnings: string[]): { alg?: string; hex: string } {
  if (typeof s !== 'string') throw new MalformedInputError('expected a hash string', { path });
  let m = /^(?:(sha1|sha256|sha512):)?([0-9a-fA-F]{40,128})$/.exec(s);
  if (!m) {
    m = /^(sha1|sha256):b'([0-9a-fA-F]{40,64})(?:\\n)?'$/.exec(s);
    if (m) warnings.push(`${path}: tolerated Python bytes repr in hash "${s.slice(0, 20)}…"`);
  }
  if (!m) throw new MalformedInputError(`unrecognised hash "${s.slice(0, 80)}"`, { path });
  const hex = m[2]!.toLowerCase();
  if (m[1] === 'sha1' && hex.length !== 40) throw new MalformedInputError('sha1 hash is not 20 bytes', { path });
  if (m[1] === 'sha256' && hex.length !== 64) throw new MalformedInputError('sha256 hash is not 32 bytes', { path });
  return m[1] ? { alg: m[1], hex } : { hex };
}

/** Repository URL -> ORG/REPO, rejecting anything that is not a Hugging Face repository URL. */
export function repoOf(uri: string, path: string): { repo: string; dataset: boolean } {
  const m = HF.exec(uri);
  if (!m) throw new MalformedInputError(`not a https://huggingface.co/ repository URL: "${uri.slice(0, 80)}"`, { path });
  return { repo: m[2]!, dataset: !!m[1] };
}

const spec = (e: AppEvent): Obj => (isObj(e.content) && isObj(e.content.spec) ? e.content.spec : {});
const resolved = (e: AppEvent): Obj => (isObj(e.content) && isObj(e.content.resolved) ? e.content.resolved : {});
const at = (e: AppEvent, f: string): string => `pcr${e.pcr}[${e.index}].${f}`;

/** Reads the facts the events state. Unknown event types are reported as warnings and otherwise ignored. */
export function readFacts(events: AppEvent[], warnings: string[]): AppFacts {
  const f: AppFacts = { events, images: [], models: [], datasets: [], finetuneSeconds: [], totalFlos: [] };
  for (const e of events) {
    switch (e.type) {
      case 'axolotl_configuration': {
        if (f.config) throw new VerificationError('CLAIMS_MISMATCH', 'more than one axolotl_configuration event');
        f.config = { sha256: normaliseHash(resolved(e).hash, at(e, 'resolved.hash'), warnings).hex, file: spec(e).config_file };
        break;
      }
      case 'input_image': {
        const name = spec(e).image_name;
        if (typeof name !== 'string') throw new MalformedInputError('missing image_name', { path: at(e, 'spec.image_name') });
        const h = normaliseHash(resolved(e).id, at(e, 'resolved.id'), warnings);
        f.images.push({ name, digest: `${h.alg ?? 'sha256'}:${h.hex}` });
        break;
      }
      case 'input_resource': {
        const rp = spec(e).resource_proto;
        if (!isObj(rp)) throw new MalformedInputError('missing resource_proto', { path: at(e, 'spec.resource_proto') });
        const uri = rp.repo;
        if (typeof uri !== 'string') throw new MalformedInputError('missing repo', { path: at(e, 'spec.resource_proto.repo') });
        const { repo, dataset } = repoOf(uri, at(e, 'spec.resource_proto.repo'));
        const revision = normaliseHash(resolved(e).hash, at(e, 'resolved.hash'), warnings).hex;
        const kind = rp.resource_type;
        if (kind !== 'model' && kind !== 'dataset') throw new MalformedInputError(`resource_type "${String(kind)}"`, { path: at(e, 'spec.resource_proto.resource_type') });
        // Model and dataset namespaces are apart on the Hub: a model measured from a datasets/ URL (or the reverse) is not that model.
        if ((kind === 'dataset') !== dataset) throw new VerificationError('CLAIMS_MISMATCH', `${at(e, 'spec')}: a ${kind} resource with a ${dataset ? 'datasets/' : 'model'} URL`);
        const pinned: PinnedRepo = { repo, uri, revision, ...(typeof rp.path === 'string' && rp.path ? { path: rp.path } : {}) };
        (kind === 'model' ? f.models : f.datasets).push(pinned);
        break;
      }
      case 'timing': {
        const t = spec(e).finetune_time;
        if (typeof t !== 'number') throw new MalformedInputError('finetune_time is not a number', { path: at(e, 'spec.finetune_time') });
        f.finetuneSeconds.push(t);
        break;
      }
      case 'compute_consumed': {
        const t = spec(e).total_flos;
        if (typeof t !== 'number') throw new MalformedInputError('total_flos is not a number', { path: at(e, 'spec.total_flos') });
        f.totalFlos.push(t);
        break;
      }
      case 'outputs': {
        if (f.outputs) throw new VerificationError('CLAIMS_MISMATCH', 'more than one outputs event');
        f.outputs = readOutputs(e, warnings);
        break;
      }
      case 'aibom_statement': {
        const d = isObj(e.content) ? e.content.digest : undefined;
        const m = typeof d === 'string' ? /^sha256:([0-9a-f]{64})$/.exec(d) : null;
        if (!m) throw new MalformedInputError('digest is not sha256:<64 lowercase hex>', { path: at(e, 'content.digest') });
        f.statementDigest = m[1]!;
        break;
      }
      // Runner area (spec/runner-protocol.md): the launch nonce event, and how the trainer was confined.
      case 'launch':
        break;
      case 'training_sandbox': {
        const b = spec(e).backend;
        if (typeof b !== 'string') throw new MalformedInputError('training_sandbox backend is not a string', { path: at(e, 'spec.backend') });
        if (f.sandbox) throw new VerificationError('CLAIMS_MISMATCH', 'more than one training_sandbox event');
        f.sandbox = { backend: b };
        break;
      }
      case '':
        break;
      default:
        warnings.push(`${at(e, 'event_type')}: unknown app event type "${e.type.slice(0, 60)}" (measured, not interpreted)`);
    }
  }
  return f;
}

/** The outputs event: a list of `{spec: {path}, resolved: {hash}}` (or that list under content.outputs). */
function readOutputs(e: AppEvent, warnings: string[]): { name: string; sha256: string }[] {
  const list = Array.isArray(e.content) ? e.content : isObj(e.content) && Array.isArray(e.content.outputs) ? e.content.outputs : undefined;
  if (!list) throw new MalformedInputError('outputs content is not a list', { path: at(e, 'content') });
  const seen = new Set<string>();
  // Field paths are built only for an error (or a warning): 100k outputs would otherwise make 300k strings.
  const p = (i: number, f: string): string => at(e, `content[${i}]${f}`);
  return list.map((o, i) => {
    const s = isObj(o) && isObj(o.spec) ? o.spec : undefined;
    const r = isObj(o) && isObj(o.resolved) ? o.resolved : undefined;
    if (!s || typeof s.path !== 'string' || !r) throw new MalformedInputError('output is not {spec: {path}, resolved: {hash}}', { path: p(i, '') });
    const bad = outputNameFault(s.path);
    if (bad) throw new MalformedInputError(bad, { path: p(i, '.spec.path') });
    // Bare lowercase sha256 hex is what normaliseHash returns unchanged (no alg, no warning); anything else goes through it.
    const h = typeof r.hash === 'string' && SHA256_HEX.test(r.hash) ? { hex: r.hash } : normaliseHash(r.hash, p(i, '.resolved.hash'), warnings);
    if (h.hex.length !== 64 || (h.alg && h.alg !== 'sha256')) throw new MalformedInputError('output hash is not sha256', { path: p(i, '.resolved.hash') });
    // One file, one digest: a path listed twice would let either digest pass as "the" output.
    if (seen.has(s.path)) throw new VerificationError('CLAIMS_MISMATCH', `output ${JSON.stringify(s.path.slice(0, 80))} is listed twice in the outputs event`);
    seen.add(s.path);
    return { name: s.path, sha256: h.hex };
  });
}
const SHA256_HEX = /^[0-9a-f]{64}$/;

// spec/sharded-digest.md §5: bound names are relative, `/`-separated, with no empty, `.` or `..` segment.
/** Refuses an output name that could point outside the model folder or hide on a terminal (malformed input). */
export function checkOutputName(name: string, path: string): void {
  const bad = outputNameFault(name);
  if (bad) throw new MalformedInputError(bad, { path });
}

/** What checkOutputName refuses in a name, as its error message; undefined when the name is fine. */
function outputNameFault(name: string): string | undefined {
  const bad =
    name === '' ? 'empty' :
    name.startsWith('/') ? 'absolute' :
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(name) ? 'a control character' :
    name.includes('\\') ? 'a backslash' :
    BAD_SEGMENT.test(name) ? 'an empty, "." or ".." segment' :
    /^[A-Za-z]:/.test(name) ? 'a drive letter' : undefined;
  return bad && `output name has ${bad}: ${JSON.stringify(name.slice(0, 80))}`;
}
// A segment (between `/`s or the ends) that is empty, `.` or `..`.
const BAD_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;
