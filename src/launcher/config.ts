/**
 * The launcher's view of an axolotl `aicert.yaml`: pinned model and dataset, Azure settings.
 * Syntax: spec/runner-protocol.md §Config. Every error names the file and the offending line.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
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

/** Everything needed to create the VM. */
export interface AzureSettings {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** ARM id of a gallery image or image version. */
  imageId: string;
  vmSize: string;
  secureBoot: boolean;
}

/** A validated `aicert.yaml`. */
export interface LauncherConfig {
  file: string;
  /** The file's text as read. */
  text: string;
  /** The axolotl YAML to send to the runner: `text` without the top-level `aicert` section. */
  axolotlYaml: string;
  baseModel: PinnedRepo;
  datasets: PinnedDataset[];
  /** Azure settings found in the file (`aicert.azure`), not yet merged with the environment. */
  azure: Partial<AzureSettings>;
  /** The `aicert` section as plain data (other keys are for other parts of the launcher). */
  aicert: Record<string, unknown>;
}

/** A config error: exit 2, before anything costs money. `line` is 1-based, absent for environment variables. */
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

/**
 * Default VM size: one NVIDIA H100 NVL (94 GB), 40 vCPUs. Azure puts new NC capacity into NCads H100 v5 rather than
 * NC A100 v4; preflight checks that the size is offered in the region, allows Trusted Launch and fits the quota, so a
 * region without it fails before anything is created. Change it with aicert.azure.vm_size or AZURE_VM_SIZE.
 */
export const DEFAULT_VM_SIZE = 'Standard_NC40ads_H100_v5';
const MAX_CONFIG_BYTES = 1 << 20;
const SHA1 = /^[0-9a-f]{40}$/;
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const FILE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** Keys that would make axolotl fetch something unpinned. */
const REJECTED_KEYS = ['pretraining_dataset', 'test_datasets'];
const AZURE_KEYS: Record<string, keyof AzureSettings> = {
  subscription_id: 'subscriptionId',
  resource_group: 'resourceGroup',
  location: 'location',
  image_id: 'imageId',
  vm_size: 'vmSize',
  secure_boot: 'secureBoot',
};

/** Reads and validates a config file. */
export async function loadConfig(path: string): Promise<LauncherConfig> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ConfigError(path, `cannot read config: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(bytes.toString('utf8'), path);
}

/** Validates config text; `file` is only used in messages. */
export function parseConfig(text: string, file = 'aicert.yaml'): LauncherConfig {
  if (typeof text !== 'string') throw new TypeError('config text must be a string');
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(file, `config is larger than ${MAX_CONFIG_BYTES} bytes`);
  // Parse with positions; YAML syntax errors carry their own line.
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = lc.linePos(err.pos[0]);
    throw new ConfigError(file, `YAML error: ${err.message.split('\n')[0]}`, { line: pos.line, column: pos.col });
  }
  const at = (n: Node | null | undefined, path: string) => {
    const off = n?.range?.[0];
    return off === undefined ? { path } : { line: lc.linePos(off).line, column: lc.linePos(off).col, path };
  };
  const fail = (msg: string, n: Node | null | undefined, path: string): never => {
    throw new ConfigError(file, msg, at(n, path));
  };
  const root = doc.contents;
  if (!isMap(root)) return fail('the config must be a YAML mapping (an axolotl config)', root, '');
  const lineOf = (n: Node, path: string): number => at(n, path).line ?? 1;

  // Refuse keys through which axolotl would fetch unpinned data.
  for (const k of REJECTED_KEYS) {
    const pair = findPair(root, k);
    if (pair) fail(`'${k}' is not supported: only pinned 'datasets' entries are fetched`, pair.key as Node, k);
  }

  // base_model: ORG/NAME@sha1:<40 hex>.
  const bm = findPair(root, 'base_model');
  if (!bm) fail("'base_model' is missing; pin it as ORG/NAME@sha1:<40 hex>", root, 'base_model');
  const bmNode = bm!.value as Node | null;
  const bmValue = scalarString(bmNode, 'base_model', fail);
  const bmPin = parsePin(bmValue, false, (m) => fail(`base_model ${m}`, bmNode, 'base_model'));
  const baseModel: PinnedRepo = { ...bmPin, line: lineOf(bmNode!, 'base_model') };
  for (const k of ['base_model_config', 'tokenizer_config']) {
    const p = findPair(root, k);
    if (!p) continue;
    const v = scalarString(p.value as Node | null, k, fail);
    if (v !== bmValue && v !== baseModel.repo && v !== `${baseModel.repo}@sha1:${baseModel.revision}`)
      fail(`'${k}' must name the pinned base model ${baseModel.repo}`, p.value as Node, k);
  }

  // datasets: a non-empty list of {path: ORG/NAME@sha1:<40 hex>, name: <file>}.
  const ds = findPair(root, 'datasets');
  if (!ds) fail("'datasets' is missing; list at least one pinned dataset", root, 'datasets');
  const seq = ds!.value;
  if (!isSeq(seq) || seq.items.length === 0) return fail("'datasets' must be a non-empty list", (seq as Node) ?? (ds!.key as Node), 'datasets');
  const datasets = seq.items.map((item, i): PinnedDataset => {
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

  // aicert.azure: optional Azure settings, checked key by key.
  const aicertPair = findPair(root, 'aicert');
  let azure: Partial<AzureSettings> = {};
  let aicert: Record<string, unknown> = {};
  if (aicertPair) {
    const sec = aicertPair.value as Node | null;
    if (!isMap(sec)) return fail("'aicert' must be a mapping", sec ?? (aicertPair.key as Node), 'aicert');
    aicert = (sec.toJSON() ?? {}) as Record<string, unknown>;
    const az = findPair(sec, 'azure');
    if (az) azure = readAzureSection(az.value as Node | null, fail);
  }
  const axolotlYaml = aicertPair ? withoutKey(doc, 'aicert') : text;
  return { file, text, axolotlYaml, baseModel, datasets, azure, aicert };
}

type Fail = (msg: string, n: Node | null | undefined, path: string) => never;

/** Finds a key's pair in a mapping. */
function findPair(map: YAMLMap, key: string) {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key);
}

/** A scalar string value, or an error naming its line. */
function scalarString(n: Node | null | undefined, path: string, fail: Fail): string {
  if (!isScalar(n) || typeof n.value !== 'string') return fail(`${path} must be a string`, n, path);
  return n.value;
}

/** Parses `[https://huggingface.co/[datasets/]]ORG/NAME@sha1:<40 hex>`. */
function parsePin(v: string, dataset: boolean, fail: (m: string) => never): Omit<PinnedRepo, 'line'> {
  const prefix = dataset ? 'https://huggingface.co/datasets/' : 'https://huggingface.co/';
  const bare = v.startsWith(prefix) ? v.slice(prefix.length) : v;
  if (/^[a-z]+:\/\//i.test(bare)) fail(`must be a Hugging Face repository (ORG/NAME or ${prefix}ORG/NAME), got ${JSON.stringify(v)}`);
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

/** Reads `aicert.azure`, rejecting unknown keys and malformed values. */
function readAzureSection(sec: Node | null, fail: Fail): Partial<AzureSettings> {
  if (!isMap(sec)) return fail("'aicert.azure' must be a mapping", sec, 'aicert.azure');
  const out: Partial<AzureSettings> = {};
  for (const p of sec.items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    const path = `aicert.azure.${k}`;
    const field = AZURE_KEYS[k];
    if (!field) return fail(`unknown key '${k}' (known: ${Object.keys(AZURE_KEYS).join(', ')})`, p.key as Node, path);
    const v = p.value as Node | null;
    if (field === 'secureBoot') {
      if (!isScalar(v) || typeof v.value !== 'boolean') fail(`${path} must be true or false`, v, path);
      out.secureBoot = (v as { value: boolean }).value;
      continue;
    }
    const s = scalarString(v, path, fail);
    const bad = checkAzureValue(field, s);
    if (bad) fail(`${path} ${bad}`, v, path);
    out[field] = s;
  }
  return out;
}

/** Syntax checks on Azure settings; returns a reason or undefined. */
export function checkAzureValue(field: Exclude<keyof AzureSettings, 'secureBoot'>, v: string): string | undefined {
  const ok: Record<typeof field, RegExp> = {
    subscriptionId: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    resourceGroup: /^[-\w.()]{0,89}[-\w()]$/,
    location: /^[a-z0-9]{2,40}$/,
    imageId:
      /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Compute\/galleries\/[\w.]{1,80}\/images\/[-\w.]{1,80}(\/versions\/[-\w.]{1,80})?$/i,
    vmSize: /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
  };
  const what: Record<typeof field, string> = {
    subscriptionId: 'must be a subscription GUID',
    resourceGroup: 'must be a resource group name',
    location: 'must be a region name such as westeurope',
    imageId: 'must be a gallery image id /subscriptions/…/providers/Microsoft.Compute/galleries/G/images/I[/versions/V]',
    vmSize: 'must be a VM size such as Standard_NC24ads_A100_v4',
  };
  return ok[field].test(v) ? undefined : `${what[field]}, got ${JSON.stringify(v)}`;
}

/** The YAML without one top-level key (comments elsewhere are kept). */
function withoutKey(doc: Document, key: string): string {
  const c = doc.clone();
  c.delete(key);
  return c.toString();
}

const ENV: Record<keyof AzureSettings, string> = {
  subscriptionId: 'AZURE_SUBSCRIPTION_ID',
  resourceGroup: 'AZURE_RESOURCE_GROUP',
  location: 'AZURE_LOCATION',
  imageId: 'AZURE_IMAGE_ID',
  vmSize: 'AZURE_VM_SIZE',
  secureBoot: 'AZURE_SECURE_BOOT',
};

/**
 * Complete Azure settings: the config file's `aicert.azure` first, then AZURE_* variables, then defaults
 * (vmSize DEFAULT_VM_SIZE, secureBoot false). Missing or malformed values are a ConfigError.
 */
export function resolveAzureSettings(config: Pick<LauncherConfig, 'azure' | 'file'> | undefined, env: NodeJS.ProcessEnv = process.env): AzureSettings {
  const file = config?.file ?? 'environment';
  const fromFile = config?.azure ?? {};
  const out: Partial<AzureSettings> = { ...fromFile };
  for (const field of Object.keys(ENV) as (keyof AzureSettings)[]) {
    if (out[field] !== undefined) continue;
    const raw = env[ENV[field]];
    if (raw === undefined || raw === '') continue;
    if (field === 'secureBoot') {
      if (!/^(true|false|1|0)$/i.test(raw)) throw new ConfigError(file, `${ENV[field]} must be true or false, got ${JSON.stringify(raw)}`);
      out.secureBoot = /^(true|1)$/i.test(raw);
      continue;
    }
    const bad = checkAzureValue(field, raw);
    if (bad) throw new ConfigError(file, `${ENV[field]} ${bad}`);
    out[field] = raw;
  }
  out.vmSize ??= DEFAULT_VM_SIZE;
  out.secureBoot ??= false;
  const missing = (['subscriptionId', 'resourceGroup', 'location', 'imageId'] as const).filter((f) => out[f] === undefined);
  if (missing.length)
    throw new ConfigError(
      file,
      `Azure settings missing: ${missing.map((f) => `${ENV[f]} (or aicert.azure.${Object.keys(AZURE_KEYS).find((k) => AZURE_KEYS[k] === f)})`).join(', ')}`,
    );
  return out as AzureSettings;
}
