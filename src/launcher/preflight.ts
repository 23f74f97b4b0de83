/**
 * Checked before it costs money: everything `aicert finetune` needs from Azure is read (never written, the storage
 * probe aside) before the first resource is created. Exit 2 for what the user's configuration gets wrong, 3 for the
 * cloud's own state (quota, unregistered providers, an unreachable service).
 * https://learn.microsoft.com/rest/api/compute/resource-skus/list
 * https://learn.microsoft.com/rest/api/compute/usage/list
 * https://learn.microsoft.com/rest/api/compute/gallery-images/get
 * https://learn.microsoft.com/azure/virtual-machines/trusted-launch#limitations
 */
import { ArmHttpError, type ArmClient } from './arm.js';
import type { AzureSettings } from './config.js';

export const PREFLIGHT_API = { skus: '2021-07-01', usages: '2024-07-01', gallery: '2023-07-03', providers: '2021-04-01', resourceGroup: '2021-04-01' } as const;
const PROVIDERS = ['Microsoft.Compute', 'Microsoft.Network'];

/** A preflight check failed: `exit` 2 (configuration) or 3 (the cloud). */
export class PreflightError extends Error {
  override name = 'PreflightError';
  constructor(
    readonly code: string,
    readonly exit: 2 | 3,
    message: string,
  ) {
    super(message);
  }
}

/** What the image decides about the VM request. */
export interface ImageFacts {
  osState: 'Specialized' | 'Generalized';
  hyperVGeneration: string;
  /** Marketplace-derived images: the VM must carry this plan. */
  plan?: { name: string; publisher: string; product: string };
}

export interface PreflightReport {
  image: ImageFacts;
  /** The size's quota family and vCPUs, and the quota left in it. */
  family: string;
  vCpus: number;
  quotaLeft: number;
  checks: { id: string; detail: string }[];
}

type Json = Record<string, any>;
const norm = (s: string) => s.toLowerCase().replace(/\s+/g, '');

/** Reads resource group, providers, image, size and quota; throws PreflightError on the first problem. */
export async function preflight(arm: ArmClient, az: AzureSettings, o: { signal?: AbortSignal; log?: (l: string) => void } = {}): Promise<PreflightReport> {
  const checks: PreflightReport['checks'] = [];
  const ok = (id: string, detail: string) => (checks.push({ id, detail }), o.log?.(`preflight ✓ ${id}: ${detail}`));
  const sub = `/subscriptions/${az.subscriptionId}`;
  const get = (path: string, api: string) => readArm(arm, path, api, o.signal);

  // Resource group and resource providers.
  if (!(await get(`${sub}/resourceGroups/${az.resourceGroup}`, PREFLIGHT_API.resourceGroup)))
    throw new PreflightError('ResourceGroupNotFound', 2, `resource group ${az.resourceGroup} does not exist in subscription ${az.subscriptionId} (nothing is created outside it)`);
  ok('resource-group', az.resourceGroup);
  for (const ns of PROVIDERS) {
    const p = await get(`${sub}/providers/${ns}`, PREFLIGHT_API.providers);
    const state = String(p?.registrationState ?? 'NotRegistered');
    if (state !== 'Registered') throw new PreflightError('ProviderNotRegistered', 3, `resource provider ${ns} is ${state} in subscription ${az.subscriptionId}: run 'az provider register --namespace ${ns}'`);
  }
  ok('providers', `${PROVIDERS.join(', ')} registered`);

  const image = await checkImage(get, az);
  ok('image', `${image.osState}, Hyper-V ${image.hyperVGeneration}, Trusted Launch supported${image.plan ? `, marketplace plan ${image.plan.publisher}/${image.plan.product}/${image.plan.name}` : ''}, replicated to ${az.location}`);

  // The size: offered in the region (and a zone), not restricted for this subscription.
  const skus = await get(`${sub}/providers/Microsoft.Compute/skus?$filter=${encodeURIComponent(`location eq '${az.location}'`)}`, PREFLIGHT_API.skus);
  const sku = (skus?.value as Json[] | undefined)?.find((s) => s?.resourceType === 'virtualMachines' && String(s?.name).toLowerCase() === az.vmSize.toLowerCase() && (s.locations as string[] | undefined)?.some((l) => norm(l) === az.location));
  if (!sku) throw new PreflightError('SkuNotAvailable', 2, `VM size ${az.vmSize} is not offered in ${az.location}; set aicert.azure.vm_size (AZURE_VM_SIZE) or the region`);
  const restricted = (sku.restrictions as Json[] | undefined ?? []).filter((r) => r?.type === 'Location' || r?.type === 'Zone');
  const zones = ((sku.locationInfo as Json[] | undefined)?.find((l) => norm(String(l?.location)) === az.location)?.zones as string[] | undefined) ?? [];
  const blockedZones = new Set(restricted.filter((r) => r.type === 'Zone').flatMap((r) => (r.restrictionInfo?.zones as string[] | undefined) ?? []));
  if (restricted.some((r) => r.type === 'Location') || (zones.length > 0 && zones.every((z) => blockedZones.has(z))))
    throw new PreflightError('SkuRestricted', 2, `VM size ${az.vmSize} is restricted in ${az.location} for this subscription (${restricted.map((r) => r.reasonCode).join(', ')}); choose another size or region, or ask Azure support`);
  const cap = (n: string) => (sku.capabilities as Json[] | undefined)?.find((c) => c?.name === n)?.value as string | undefined;
  if (cap('HyperVGenerations') && !cap('HyperVGenerations')!.split(',').includes('V2')) throw new PreflightError('SkuNotGen2', 2, `VM size ${az.vmSize} does not run Generation 2 VMs (Trusted Launch needs them)`);
  if (cap('TrustedLaunchDisabled') === 'True') throw new PreflightError('SkuNoTrustedLaunch', 2, `VM size ${az.vmSize} does not support Trusted Launch`);
  const vCpus = Number(cap('vCPUs') ?? 0);
  const family = String(sku.family ?? '');
  ok('vm-size', `${az.vmSize} offered in ${az.location}${zones.length ? ` (zones ${zones.filter((z) => !blockedZones.has(z)).join(',')})` : ''}, ${vCpus} vCPUs, family ${family}`);

  // Quota: the family's vCPUs and the regional total must both cover the VM.
  const usages = (await get(`${sub}/providers/Microsoft.Compute/locations/${az.location}/usages`, PREFLIGHT_API.usages))?.value as Json[] | undefined ?? [];
  let quotaLeft = Infinity;
  for (const name of [family, 'cores']) {
    const u = usages.find((x) => String(x?.name?.value).toLowerCase() === name.toLowerCase());
    if (!u) continue;
    const left = Number(u.limit) - Number(u.currentValue);
    quotaLeft = Math.min(quotaLeft, left);
    if (left < vCpus)
      throw new PreflightError('QuotaExceeded', 3, `quota for ${u.name?.localizedValue ?? name} in ${az.location}: ${u.currentValue} of ${u.limit} vCPUs used, ${az.vmSize} needs ${vCpus}; request more in the portal (Quotas → Compute)`);
  }
  ok('quota', `${Number.isFinite(quotaLeft) ? quotaLeft : 'unlimited'} vCPUs left for ${vCpus}`);
  return { image, family, vCpus, quotaLeft, checks };
}

/** The gallery image (definition and version): exists, replicated to the region, Gen2, Trusted Launch, OS state, plan. */
async function checkImage(get: (p: string, api: string) => Promise<Json | undefined>, az: AzureSettings): Promise<ImageFacts> {
  const m = /^(.*\/images\/[^/]+)(?:\/versions\/([^/]+))?$/i.exec(az.imageId);
  const defId = m![1]!;
  const def = await get(defId, PREFLIGHT_API.gallery);
  if (!def) throw new PreflightError('ImageNotFound', 2, `gallery image ${defId} does not exist (or the credential cannot read it)`);
  const p = (def.properties ?? {}) as Json;
  if (m![2]) {
    const ver = await get(az.imageId, PREFLIGHT_API.gallery);
    if (!ver) throw new PreflightError('ImageVersionNotFound', 2, `image version ${m![2]} of ${defId} does not exist`);
    const regions = ((ver.properties?.publishingProfile?.targetRegions as Json[] | undefined) ?? []).map((r) => norm(String(r?.name)));
    if (!regions.includes(az.location)) throw new PreflightError('ImageNotReplicated', 2, `image version ${m![2]} is not replicated to ${az.location} (only ${regions.join(', ') || 'nowhere'}): add the region to its target regions`);
    const st = String(ver.properties?.provisioningState ?? 'Succeeded');
    if (st !== 'Succeeded') throw new PreflightError('ImageVersionNotReady', 3, `image version ${m![2]} is ${st}`);
  }
  const gen = String(p.hyperVGeneration ?? 'V1');
  if (gen !== 'V2') throw new PreflightError('ImageNotGen2', 2, `image ${defId} is Hyper-V ${gen}; Trusted Launch needs a Generation 2 (V2) image`);
  const sec = String(((p.features as Json[] | undefined) ?? []).find((f) => f?.name === 'SecurityType')?.value ?? '');
  const cvm = az.securityType === 'ConfidentialVM';
  if (!(cvm ? /^(TrustedLaunchAnd)?ConfidentialVm(Supported)?$/i : /^TrustedLaunch(Supported|AndConfidentialVmSupported)?$/).test(sec))
    throw new PreflightError('ImageNoTrustedLaunch', 2, `image ${defId} does not carry the SecurityType feature ${cvm ? 'ConfidentialVmSupported' : 'TrustedLaunch'} (has ${sec || 'none'}); recreate the image definition with --features SecurityType=${cvm ? 'ConfidentialVmSupported' : 'TrustedLaunch'}`);
  const osState = p.osState === 'Generalized' ? 'Generalized' : p.osState === 'Specialized' ? 'Specialized' : undefined;
  if (!osState) throw new PreflightError('ImageOsState', 2, `image ${defId} has an unknown OS state ${JSON.stringify(p.osState)}`);
  const pp = p.purchasePlan as Json | undefined;
  const plan = pp && typeof pp.name === 'string' && typeof pp.publisher === 'string' && typeof pp.product === 'string' ? { name: pp.name, publisher: pp.publisher, product: pp.product } : undefined;
  return { osState, hyperVGeneration: gen, ...(plan ? { plan } : {}) };
}

/** GET that maps 404 to undefined, 401/403 to a configuration error, the rest to exit 3. */
async function readArm(arm: ArmClient, path: string, api: string, signal?: AbortSignal): Promise<Json | undefined> {
  try {
    const [p, q] = path.split('?');
    return q ? await arm.getWithQuery(p!, api, q, signal) : await arm.get(p!, api, signal);
  } catch (e) {
    if (e instanceof ArmHttpError && (e.status === 401 || e.status === 403)) throw new PreflightError(e.code, 2, `the credential may not read ${path.split('?')[0]}: ${e.message}`);
    if (e instanceof PreflightError) throw e;
    throw new PreflightError((e as { code?: string }).code ?? 'CloudError', 3, `reading ${path.split('?')[0]}: ${(e as Error).message}`);
  }
}
