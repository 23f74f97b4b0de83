/**
 * The launcher's view of an axolotl `aicert.yaml`: pinned model and dataset, Azure settings.
 * Syntax: spec/runner-protocol.md §Config. Every error names the file and the offending line.
 */
import { readFile } from 'node:fs/promises';
import type { Node } from 'yaml';
import { isMap, isScalar } from '../wire/yaml.js';
import { ConfigError, findPair, parseAxolotlConfig, scalarString, type Fail, type PinnedDataset, type PinnedRepo } from '../wire/config.js';
import { checkSecurityType, type SecurityType } from './confidential.js';

// The axolotl rules live in the wire module the runner shares.
export { ConfigError, type PinnedDataset, type PinnedRepo };

/** Everything needed to create the VM. */
export interface AzureSettings {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** ARM id of a gallery image or image version. */
  imageId: string;
  vmSize: string;
  secureBoot: boolean;
  /** TrustedLaunch (default) or ConfidentialVM (src/launcher/confidential.ts). */
  securityType?: SecurityType;
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

/**
 * Default VM size: one NVIDIA H100 NVL (94 GB), 40 vCPUs. Azure puts new NC capacity into NCads H100 v5 rather than
 * NC A100 v4; preflight checks that the size is offered in the region, allows Trusted Launch and fits the quota, so a
 * region without it fails before anything is created. Change it with aicert.azure.vm_size or AZURE_VM_SIZE.
 */
export const DEFAULT_VM_SIZE = 'Standard_NC40ads_H100_v5';
const AZURE_KEYS: Record<string, keyof AzureSettings> = {
  subscription_id: 'subscriptionId',
  resource_group: 'resourceGroup',
  location: 'location',
  image_id: 'imageId',
  vm_size: 'vmSize',
  secure_boot: 'secureBoot',
  security_type: 'securityType',
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

/** Validates config text (axolotl rules: src/wire/config.ts) and the `aicert.azure` section; `file` names messages. */
export async function parseConfig(text: string, file = 'aicert.yaml'): Promise<LauncherConfig> {
  const c = await parseAxolotlConfig(text, file);
  const az = c.section && findPair(c.section.node, 'azure');
  const azure = az ? readAzureSection(az.value as Node | null, c.section!.fail) : {};
  return { file: c.file, text: c.text, axolotlYaml: c.axolotlYaml, baseModel: c.baseModel, datasets: c.datasets, azure, aicert: c.aicert };
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
    (out as Record<string, unknown>)[field] = s;
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
    securityType: /^(TrustedLaunch|ConfidentialVM)$/,
  };
  const what: Record<typeof field, string> = {
    subscriptionId: 'must be a subscription GUID',
    resourceGroup: 'must be a resource group name',
    location: 'must be a region name such as westeurope',
    imageId: 'must be a gallery image id /subscriptions/…/providers/Microsoft.Compute/galleries/G/images/I[/versions/V]',
    vmSize: 'must be a VM size such as Standard_NC24ads_A100_v4',
    securityType: 'must be TrustedLaunch or ConfidentialVM',
  };
  return ok[field].test(v) ? undefined : `${what[field]}, got ${JSON.stringify(v)}`;
}

const ENV: Record<keyof AzureSettings, string> = {
  subscriptionId: 'AZURE_SUBSCRIPTION_ID',
  resourceGroup: 'AZURE_RESOURCE_GROUP',
  location: 'AZURE_LOCATION',
  imageId: 'AZURE_IMAGE_ID',
  vmSize: 'AZURE_VM_SIZE',
  secureBoot: 'AZURE_SECURE_BOOT',
  securityType: 'AZURE_SECURITY_TYPE',
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
    (out as Record<string, unknown>)[field] = raw;
  }
  out.vmSize ??= DEFAULT_VM_SIZE;
  out.secureBoot ??= false;
  const badType = checkSecurityType(out.securityType ?? 'TrustedLaunch', out.vmSize);
  if (badType) throw new ConfigError(file, badType);
  const missing = (['subscriptionId', 'resourceGroup', 'location', 'imageId'] as const).filter((f) => out[f] === undefined);
  if (missing.length)
    throw new ConfigError(
      file,
      `Azure settings missing: ${missing.map((f) => `${ENV[f]} (or aicert.azure.${Object.keys(AZURE_KEYS).find((k) => AZURE_KEYS[k] === f)})`).join(', ')}`,
    );
  return out as AzureSettings;
}
