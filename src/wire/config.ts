/**
 * The axolotl config rules both sides enforce (spec/runner-protocol.md §Config): the launcher before anything is
 * created, the runner on receipt. Inputs must be pinned Hugging Face repositories, and keys through which axolotl
 * would load code or fetch unpinned data are refused. Every error names the file, the 1-based line and the key.
 */
import type { Document, Node, YAMLMap } from 'yaml';
import { isMap, isScalar, isSeq, loadYaml, yaml } from './yaml.js';
import { MalformedInputError } from '../errors.js';

/** A Hugging Face repository pinned to a git commit. */
export interface PinnedRepo {
  /** `ORG/NAME`. */
  repo: string;
  /** 40 lowercase hex digits: the git commit (sha1). */
  revision: string;
  /** `https://huggingface.co/ORG/NAME` or `https://huggingface.co/datasets/ORG/NAME`. */
  url: string;
  /** 1-based line of the value in the config file. */
  line: number;
}

/** A pinned dataset repository plus the data file inside it. */
export interface PinnedDataset extends PinnedRepo {
  /** Relative POSIX path of the data file in the repository, without a leading slash. */
  file: string;
}

/** A config error: exit 2 (launcher) or 400 (runner). `line` is 1-based, absent for environment variables. */
export class ConfigError extends MalformedInputError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(file: string, message: string, where: { line?: number; column?: number; path?: string } = {}) {
    const loc = where.line !== undefined ? `${file}:${where.line}${where.column !== undefined ? `:${where.column}` : ''}` : file;
    super(`${loc}: ${message}`, where.path !== undefined ? { path: where.path } : {});
    this.file = file;
    this.line = where.line;
    this.column = where.column;
  }
}

export type Fail = (msg: string, n: Node | null | undefined, path: string) => never;

/** A validated axolotl config; `section` is the launcher's own `aicert` mapping, when present. */
export interface AxolotlConfig {
  file: string;
  text: string;
  /** The YAML the runner receives: `text` without the top-level `aicert` section. */
  axolotlYaml: string;
  baseModel: PinnedRepo;
  datasets: PinnedDataset[];
  aicert: Record<string, unknown>;
  section?: { node: YAMLMap; fail: Fail };
}

export const MAX_CONFIG_BYTES = 1 << 20;
const SHA1 = /^[0-9a-f]{40}$/;
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const FILE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Top-level keys refused whatever their value, with the reason (spec/runner-protocol.md §Refused keys). */
export const REFUSED_KEYS: Record<string, string> = {
  plugins: 'axolotl plugins are Python modules loaded into the trainer',
  pretraining_dataset: 'axolotl would fetch it unpinned; only pinned datasets entries are fetched',
  test_datasets: 'axolotl would fetch them unpinned; only pinned datasets entries are fetched',
  lora_model_dir: 'an adapter loaded from a path or repository that is not a measured input',
  hub_model_id: 'pushes the outputs to the Hub from the trainer; the trainer has no network, the runner uploads',
  push_dataset_to_hub: 'pushes data to the Hub from the trainer; the trainer has no network',
};
/** Top-level string keys that name a model or tokenizer source: they must name the pinned base model. */
const SOURCE_KEYS = ['base_model_config', 'tokenizer_config', 'processor_config'];

/** Validates config text; `file` is only used in messages. Loads the optional peer `yaml` first. */
export async function parseAxolotlConfig(text: string, file = 'aicert.yaml'): Promise<AxolotlConfig> {
  if (typeof text !== 'string') throw new TypeError('config text must be a string');
  await loadYaml();
  return parseLoaded(text, file);
}

/** parseAxolotlConfig once `yaml` is loaded. */
function parseLoaded(text: string, file: string): AxolotlConfig {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(file, `config is larger than ${MAX_CONFIG_BYTES} bytes`);
  // Parse with positions; YAML syntax errors carry their own line.
  const lc = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = lc.linePos(err.pos[0]);
    throw new ConfigError(file, `YAML error: ${err.message.split('\n')[0]}`, { line: pos.line, column: pos.col });
  }
  const at = (n: Node | null | undefined, path: string) => {
    const off = n?.range?.[0];
    return off === undefined ? { path } : { line: lc.linePos(off).line, column: lc.linePos(off).col, path };
  };
  const fail: Fail = (msg, n, path) => {
    throw new ConfigError(file, msg, at(n, path));
  };
  const root = doc.contents;
  if (!isMap(root)) return fail('the config must be a YAML mapping (an axolotl config)', root, '');
  const lineOf = (n: Node, path: string): number => at(n, path).line ?? 1;

  const baseModel = readBaseModel(root, fail, lineOf);
  refuseUnsafeKeys(root, baseModel, fail);
  const datasets = readDatasets(root, fail, lineOf);

  // aicert: the launcher's own section, removed before the YAML is sent.
  const aicertPair = findPair(root, 'aicert');
  let aicert: Record<string, unknown> = {};
  let section: AxolotlConfig['section'];
  if (aicertPair) {
    const sec = aicertPair.value as Node | null;
    if (!isMap(sec)) return fail("'aicert' must be a mapping", sec ?? (aicertPair.key as Node), 'aicert');
    aicert = (sec.toJSON() ?? {}) as Record<string, unknown>;
    section = { node: sec, fail };
  }
  const axolotlYaml = aicertPair ? withoutKey(doc, 'aicert') : text;
  return { file, text, axolotlYaml, baseModel, datasets, aicert, ...(section ? { section } : {}) };
}

/** base_model: ORG/NAME@sha1:<40 hex>. */
function readBaseModel(root: YAMLMap, fail: Fail, lineOf: (n: Node, p: string) => number): PinnedRepo {
  const bm = findPair(root, 'base_model');
  if (!bm) fail("'base_model' is missing; pin it as ORG/NAME@sha1:<40 hex>", root, 'base_model');
  const bmNode = bm!.value as Node | null;
  const pin = parsePin(scalarString(bmNode, 'base_model', fail), false, (m) => fail(`base_model ${m}`, bmNode, 'base_model'));
  return { ...pin, line: lineOf(bmNode!, 'base_model') };
}

/** The refusal rules: code loading, unpinned sources, URLs anywhere outside the pinned fields. */
function refuseUnsafeKeys(root: YAMLMap, baseModel: PinnedRepo, fail: Fail): void {
  const pinned = [baseModel.repo, `${baseModel.repo}@sha1:${baseModel.revision}`, `${baseModel.url}@sha1:${baseModel.revision}`];
  for (const p of root.items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    const v = p.value as Node | null;
    if (k === 'aicert') continue;
    if (REFUSED_KEYS[k]) fail(`'${k}' is not supported: ${REFUSED_KEYS[k]}`, p.key as Node, k);
    if (k === 'trust_remote_code' && !(isScalar(v) && v.value === false))
      fail("'trust_remote_code' must be false: it runs Python code from the model repository", v ?? (p.key as Node), k);
    if (k === 'revision_of_model' && !(isScalar(v) && v.value === baseModel.revision))
      fail(`'revision_of_model' must be the pinned commit ${baseModel.revision}`, v ?? (p.key as Node), k);
    if ((SOURCE_KEYS.includes(k) || (k.endsWith('_model_config') && isScalar(v))) && !(isScalar(v) && pinned.includes(String(v.value))))
      fail(`'${k}' must name the pinned base model ${baseModel.repo}`, v ?? (p.key as Node), k);
    if (k === 'trl' && isMap(v) && findPair(v, 'reward_funcs')) fail("'trl.reward_funcs' is refused: reward functions are Python code", findPair(v, 'reward_funcs')!.key as Node, 'trl.reward_funcs');
    if (k !== 'base_model') refuseUrls(v, k, fail, k === 'datasets');
  }
}

/** Walks a value: any string with a URL scheme is refused (datasets[i].path is checked by parsePin instead). */
function refuseUrls(n: Node | null | undefined, path: string, fail: Fail, datasets: boolean, depth = 0): void {
  if (!n || depth > 64) return;
  if (isScalar(n)) {
    if (typeof n.value === 'string' && URL_SCHEME.test(n.value)) fail(`'${path}' names a URL (${n.value.slice(0, 60)}): the trainer only reads the pinned, measured inputs`, n, path);
  } else if (isSeq(n)) n.items.forEach((x, i) => refuseUrls(x as Node, `${path}[${i}]`, fail, datasets, depth + 1));
  else if (isMap(n))
    for (const p of n.items) {
      const k = isScalar(p.key) ? String(p.key.value) : '';
      const sub = `${path}.${k}`;
      if (datasets && depth === 1 && k === 'trust_remote_code' && !(isScalar(p.value) && p.value.value === false))
        fail(`'${sub}' must be false: it runs Python code from the dataset repository`, (p.value as Node) ?? (p.key as Node), sub);
      if (datasets && depth === 1 && k === 'path') continue;
      refuseUrls(p.value as Node, sub, fail, datasets, depth + 1);
    }
}

/** datasets: a non-empty list of {path: ORG/NAME@sha1:<40 hex>, name: <file>}. */
function readDatasets(root: YAMLMap, fail: Fail, lineOf: (n: Node, p: string) => number): PinnedDataset[] {
  const ds = findPair(root, 'datasets');
  if (!ds) fail("'datasets' is missing; list at least one pinned dataset", root, 'datasets');
  const seq = ds!.value;
  if (!isSeq(seq) || seq.items.length === 0) return fail("'datasets' must be a non-empty list", (seq as Node) ?? (ds!.key as Node), 'datasets');
  return seq.items.map((item, i): PinnedDataset => {
    const where = `datasets[${i}]`;
    if (!isMap(item)) return fail(`${where} must be a mapping with 'path' and 'name'`, item as Node, where);
    const pp = findPair(item, 'path');
    if (!pp) fail(`${where}.path is missing`, item, `${where}.path`);
    const pNode = pp!.value as Node | null;
    const pin = parsePin(scalarString(pNode, `${where}.path`, fail), true, (m) => fail(`${where}.path ${m}`, pNode, `${where}.path`));
    const rev = findPair(item, 'revision');
    if (rev && scalarString(rev.value as Node | null, `${where}.revision`, fail) !== pin.revision)
      fail(`${where}.revision disagrees with the sha1 pinned in ${where}.path`, rev.value as Node, `${where}.revision`);
    const np = findPair(item, 'name');
    if (!np) fail(`${where}.name is missing: name the data file inside the repository, e.g. /train.parquet`, item, `${where}.name`);
    const nNode = np!.value as Node | null;
    const fileName = scalarString(nNode, `${where}.name`, fail);
    const segs = fileName.replace(/^\//, '').split('/');
    if (fileName.length > 1024 || !segs.every((s) => FILE_SEGMENT.test(s) && s !== '.' && s !== '..'))
      fail(`${where}.name must be a relative file path of [A-Za-z0-9._-] segments, got ${JSON.stringify(fileName)}`, nNode, `${where}.name`);
    return { ...pin, file: segs.join('/'), line: lineOf(pNode!, where) };
  });
}

/** Finds a key's pair in a mapping. */
export function findPair(map: YAMLMap, key: string) {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key);
}

/** A scalar string value, or an error naming its line. */
export function scalarString(n: Node | null | undefined, path: string, fail: Fail): string {
  if (!isScalar(n) || typeof n.value !== 'string') return fail(`${path} must be a string`, n, path);
  return n.value;
}

/** Parses `[https://huggingface.co/[datasets/]]ORG/NAME@sha1:<40 hex>`. */
function parsePin(v: string, dataset: boolean, fail: (m: string) => never): Omit<PinnedRepo, 'line'> {
  const prefix = dataset ? 'https://huggingface.co/datasets/' : 'https://huggingface.co/';
  const bare = v.startsWith(prefix) ? v.slice(prefix.length) : v;
  if (URL_SCHEME.test(bare)) fail(`must be a Hugging Face repository (ORG/NAME or ${prefix}ORG/NAME), got ${JSON.stringify(v)}`);
  const at = bare.lastIndexOf('@');
  if (at < 0) fail(`is not pinned: write ${bare}@sha1:<40 hex git commit>`);
  const [repo, pin] = [bare.slice(0, at), bare.slice(at + 1)];
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => NAME.test(p) && !p.includes('--') && !p.includes('..')))
    fail(`must name a repository as ORG/NAME, got ${JSON.stringify(repo)}`);
  if (!pin.startsWith('sha1:')) fail(`must be pinned to a commit as @sha1:<40 hex>, got @${pin}`);
  const rev = pin.slice(5);
  if (!SHA1.test(rev)) fail(`pin must be 40 lowercase hex digits, got ${JSON.stringify(rev)} (${rev.length} characters)`);
  return { repo, revision: rev, url: prefix + repo };
}

/** The YAML without one top-level key (comments elsewhere are kept). */
function withoutKey(doc: Document, key: string): string {
  const c = doc.clone();
  c.delete(key);
  return c.toString();
}
