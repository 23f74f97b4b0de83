/**
 * Creates and deletes the Trusted Launch VM of one run, in an existing resource group, over ARM REST.
 * Bodies follow azure-rest-api-specs examples: Microsoft.Network 2024-05-01 (VirtualNetworkCreate,
 * PublicIpAddressCreateDefaults, NetworkSecurityGroupCreateWithRule, NetworkInterfaceCreate) and Microsoft.Compute
 * 2024-07-01 (VirtualMachine_Create_WithUefiSettings).
 */
import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import type { ImageFacts } from './preflight.js';
import { abortableSleep, ArmHttpError, CloudError, type ArmClient } from './arm.js';
import type { AzureSettings } from './config.js';
import { launchUserData, parseLaunchUserData } from '../wire/launch.js';
import { newRunId, RunFile, type ResourceKind, type ResourceRecord, type RunState } from './state.js';
import { securityProfile } from './confidential.js';
import { stderrLines } from '../node/stderr.js';

export const API_VERSIONS = { resourceGroup: '2021-04-01', network: '2024-05-01', compute: '2024-07-01', disk: '2024-03-02' } as const;

/** Deletion order: dependents first. */
const TEARDOWN_ORDER: ResourceKind[] = ['virtualMachine', 'disk', 'networkInterface', 'publicIPAddress', 'networkSecurityGroup', 'virtualNetwork'];

export interface ProvisionOptions {
  arm: ArmClient;
  azure: AzureSettings;
  /** The run's state file (createRun); every resource is recorded in it before it is created. */
  run: RunFile;
  /** The 32-byte launch nonce the runner measures (carried in userData). */
  nonce: Uint8Array;
  /** The caller's public address: the only source the NSG admits; any source when absent. */
  callerIp?: string;
  /** `--allow-from CIDR`: the only sources port 443 admits (wins over callerIp). */
  allowFrom?: string;
  /** What preflight learnt about the image: its OS state decides osProfile, a marketplace origin the plan. */
  image?: ImageFacts;
  signal?: AbortSignal;
  tags?: Record<string, string>;
  log?: (line: string) => void;
}

export interface ProvisionedVm {
  runId: string;
  publicIp: string;
  /** The VM's ARM `vmId` (a GUID), for binding checks. */
  vmId: string | undefined;
  resources: ResourceRecord[];
}

export interface TeardownReport {
  deleted: string[];
  absent: string[];
  failed: { id: string; error: string }[];
}

/** The runner could not be reached because the launcher was interrupted (SIGINT/SIGTERM). */
export class InterruptedError extends Error {
  readonly code = 'Interrupted';
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}

/** Starts a state file for a new run against `arm`'s endpoint. */
export function createRun(arm: ArmClient, azure: AzureSettings, opts: { home?: string; config?: string; runId?: string } = {}): Promise<RunFile> {
  const { subscriptionId, resourceGroup, location, vmSize, imageId } = azure;
  const init = { runId: opts.runId ?? newRunId(), armEndpoint: arm.endpoint.href, subscriptionId, resourceGroup, location, vmSize, imageId };
  return RunFile.create(opts.config !== undefined ? { ...init, config: opts.config } : init, opts.home);
}

// The launch userData format is shared with the runner (src/wire/launch.ts).
export { launchUserData, parseLaunchUserData };

/** Creates vnet/subnet, static Standard IP, NSG (443 only), NIC, then the Trusted Launch VM; returns its public IP. */
export async function provision(o: ProvisionOptions): Promise<ProvisionedVm> {
  const { arm, azure, run, signal } = o;
  const runId = run.state.runId;
  const userData = launchUserData(runId, o.nonce);
  if (o.callerIp !== undefined && isIP(o.callerIp) === 0) throw new TypeError(`callerIp is not an IP address: ${o.callerIp}`);
  if (o.allowFrom !== undefined && !isCidr(o.allowFrom)) throw new TypeError(`allowFrom is not an address or CIDR: ${o.allowFrom}`);
  const log = o.log ?? (() => {});
  const source = o.allowFrom ?? o.callerIp ?? '*';
  if (source === '*') log('WARNING: port 443 of the VM is open to any address (pass --allow-from CIDR to restrict it)');
  const rg = `/subscriptions/${azure.subscriptionId}/resourceGroups/${azure.resourceGroup}`;
  const id = (prov: string, type: string, suffix: string) => `${rg}/providers/${prov}/${type}/aicert-${runId}-${suffix}`;
  const ids = {
    vnet: id('Microsoft.Network', 'virtualNetworks', 'vnet'),
    ip: id('Microsoft.Network', 'publicIPAddresses', 'ip'),
    nsg: id('Microsoft.Network', 'networkSecurityGroups', 'nsg'),
    nic: id('Microsoft.Network', 'networkInterfaces', 'nic'),
    vm: id('Microsoft.Compute', 'virtualMachines', 'vm'),
    disk: id('Microsoft.Compute', 'disks', 'osdisk'),
  };
  const tags = { 'aicert-run': runId, ...o.tags };
  const base = { location: azure.location, tags };

  // The resource group must already exist: nothing is created outside it.
  if (!(await arm.get(rg, API_VERSIONS.resourceGroup, signal)))
    throw new CloudError('ResourceGroupNotFound', `resource group ${azure.resourceGroup} does not exist in subscription ${azure.subscriptionId}`);

  // Record (before), create, record (after); a failed PUT may still leave a Failed resource behind.
  const create = async (kind: ResourceKind, rid: string, api: string, body: unknown) => {
    signal?.throwIfAborted();
    log(`creating ${kind} ${rid.split('/').pop()}`);
    await run.resource(kind, rid, api, 'creating');
    try {
      const r = await arm.put(rid, api, body, signal);
      await run.resource(kind, rid, api, 'created');
      return r;
    } catch (e) {
      if (!signal?.aborted) await run.resource(kind, rid, api, 'failed', (e as Error).message);
      throw e;
    }
  };
  const net = API_VERSIONS.network;
  await create('virtualNetwork', ids.vnet, net, {
    ...base,
    properties: { addressSpace: { addressPrefixes: ['10.0.0.0/16'] }, subnets: [{ name: 'default', properties: { addressPrefix: '10.0.0.0/24' } }] },
  });
  await create('publicIPAddress', ids.ip, net, {
    ...base,
    sku: { name: 'Standard', tier: 'Regional' },
    properties: { publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4' },
  });
  const rule = (name: string, priority: number, access: 'Allow' | 'Deny', port: string, source: string) => ({
    name,
    properties: { protocol: access === 'Allow' ? 'Tcp' : '*', sourcePortRange: '*', destinationPortRange: port, sourceAddressPrefix: source, destinationAddressPrefix: '*', access, priority, direction: 'Inbound' },
  });
  await create('networkSecurityGroup', ids.nsg, net, {
    ...base,
    properties: { securityRules: [rule('allow-https', 100, 'Allow', '443', source), rule('deny-all-inbound', 4096, 'Deny', '*', '*')] },
  });
  await create('networkInterface', ids.nic, net, {
    ...base,
    properties: {
      networkSecurityGroup: { id: ids.nsg },
      ipConfigurations: [{ name: 'ipconfig1', properties: { subnet: { id: `${ids.vnet}/subnets/default` }, publicIPAddress: { id: ids.ip }, privateIPAllocationMethod: 'Dynamic' } }],
    },
  });
  // The OS disk is created by the VM: record it first so a crash cannot orphan it.
  await run.resource('disk', ids.disk, API_VERSIONS.disk, 'creating');
  // Boot diagnostics (managed storage) keep the serial log of a VM that does not boot.
  await run.update({ serialLog: `az vm boot-diagnostics get-boot-log --ids ${ids.vm} (REST: POST ${ids.vm}/retrieveBootDiagnosticsData)` });
  const security = securityProfile(azure.securityType ?? 'TrustedLaunch', azure.secureBoot);
  const vm = await create('virtualMachine', ids.vm, API_VERSIONS.compute, {
    ...base,
    properties: {
      hardwareProfile: { vmSize: azure.vmSize },
      storageProfile: {
        imageReference: { id: azure.imageId },
        osDisk: { name: `aicert-${runId}-osdisk`, createOption: 'FromImage', deleteOption: 'Delete', managedDisk: { storageAccountType: 'Premium_LRS', ...security.managedDisk } },
      },
      networkProfile: { networkInterfaces: [{ id: ids.nic, properties: { primary: true, deleteOption: 'Detach' } }] },
      securityProfile: security.profile,
      diagnosticsProfile: { bootDiagnostics: { enabled: true } },
      userData,
      ...(o.image?.osState === 'Generalized' ? { osProfile: generalizedOsProfile(runId) } : {}),
    },
    ...(o.image?.plan ? { plan: o.image.plan } : {}),
  });
  await run.resource('disk', ids.disk, API_VERSIONS.disk, 'created');

  // The public address is allocated by now (Static).
  const ip = await arm.get(ids.ip, net, signal);
  const publicIp = (ip?.properties as { ipAddress?: unknown } | undefined)?.ipAddress;
  if (typeof publicIp !== 'string' || isIP(publicIp) === 0) throw new CloudError('NoPublicIp', `public IP ${ids.ip} has no address`);
  await run.update({ publicIp, status: 'running' });
  const vmId = (vm.properties as { vmId?: unknown } | undefined)?.vmId;
  log(`VM ready at ${publicIp}`);
  return { runId, publicIp, vmId: typeof vmId === 'string' ? vmId : undefined, resources: run.live() };
}

/** A clock for teardown's back-off; injected in tests so minutes of waiting cost none. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
export const systemClock: Clock = { now: () => Date.now(), sleep: abortableSleep };

export interface TeardownOptions {
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** How long one resource's transient refusals are retried (default 20 min: NIC reservations last about 3). */
  retryForMs?: number;
  /** First wait (default 5 s), doubled up to maxDelayMs (default 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
  /** @deprecated kept for callers of the first version: the first wait. */
  conflictDelayMs?: number;
  conflictRetries?: number;
}

/** Codes ARM answers while a deletion cannot happen yet but will (reservations, dependents still going away). */
const TRANSIENT_CODES = new Set(
  ['NicReservedForAnotherVm', 'InUseSubnetCannotBeDeleted', 'NicInUse', 'PublicIPAddressInUse', 'InUseNetworkSecurityGroupCannotBeDeleted',
    'AnotherOperationInProgress', 'RetryableError', 'OperationNotAllowed', 'NetworkError', 'OperationTimeout', 'InternalServerError'].map((c) => c.toLowerCase()),
);

/** True for an answer worth waiting out: 409, 429, 5xx, a network error, or a known transient code. */
export function isTransientDeleteError(e: unknown): boolean {
  if (e instanceof ArmHttpError && (e.status === 409 || e.status === 429 || e.status >= 500)) return true;
  return e instanceof CloudError && TRANSIENT_CODES.has(e.code.toLowerCase());
}

/** True for an IPv4/IPv6 address, or one with a /prefix. */
export function isCidr(s: string): boolean {
  const [ip, len, extra] = s.split('/');
  if (extra !== undefined || !ip) return false;
  const v = isIP(ip);
  if (v === 0) return false;
  return len === undefined || (/^\d{1,3}$/.test(len) && Number(len) <= (v === 4 ? 32 : 128));
}

/**
 * osProfile for a Generalized image: admin user `aicert`, password login off, and an SSH public key made for this
 * run. The private key is never exported nor written: nobody, the launcher included, can log in with it.
 */
export function generalizedOsProfile(runId: string): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const jwk = publicKey.export({ format: 'jwk' });
  const str = (b: Buffer) => Buffer.concat([u32(b.length), b]);
  const mpint = (b64: string) => {
    const b = Buffer.from(b64, 'base64url');
    return str(b[0]! & 0x80 ? Buffer.concat([Buffer.alloc(1), b]) : b);
  };
  const blob = Buffer.concat([str(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
  return {
    computerName: `aicert-${runId.slice(-6)}`,
    adminUsername: 'aicert',
    linuxConfiguration: {
      disablePasswordAuthentication: true,
      ssh: { publicKeys: [{ path: '/home/aicert/.ssh/authorized_keys', keyData: `ssh-rsa ${blob.toString('base64')} aicert-run-${runId}` }] },
    },
  };
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/**
 * Deletes everything the run still owns, dependents first (VM → disk → NIC → IP → NSG → vnet). Idempotent: 404/204
 * count as gone. Transient refusals are retried with doubling waits for up to retryForMs per resource; a resource
 * that still cannot be deleted stops the teardown there (what depends on it cannot go either) and stays recorded, so
 * `aicert down RUN` resumes from it. The run is torn-down only when nothing is left.
 */
export async function teardown(run: RunFile, arm: ArmClient, opts: TeardownOptions = {}): Promise<TeardownReport> {
  const report: TeardownReport = { deleted: [], absent: [], failed: [] };
  const clock = opts.clock ?? systemClock;
  const live = run.live().sort((a, b) => TEARDOWN_ORDER.indexOf(a.kind) - TEARDOWN_ORDER.indexOf(b.kind));
  if (live.length) await run.update({ status: 'tearing-down' });
  for (const r of live) {
    await run.resource(r.kind, r.id, r.apiVersion, 'deleting');
    const deadline = clock.now() + (opts.retryForMs ?? 20 * 60_000);
    let delay = opts.baseDelayMs ?? opts.conflictDelayMs ?? 5000;
    for (let attempt = 1; ; attempt++) {
      try {
        opts.log?.(`deleting ${r.kind} ${r.id.split('/').pop()}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
        const out = await arm.delete(r.id, r.apiVersion, opts.signal);
        await run.resource(r.kind, r.id, r.apiVersion, 'deleted');
        (out === 'deleted' ? report.deleted : report.absent).push(r.id);
        break;
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        const msg = (e as Error).message;
        if (isTransientDeleteError(e) && clock.now() + delay <= deadline) {
          opts.log?.(`${r.id.split('/').pop()}: ${msg}; retrying in ${Math.round(delay / 1000)} s`);
          await clock.sleep(delay, opts.signal);
          delay = Math.min(delay * 2, opts.maxDelayMs ?? 60_000);
          continue;
        }
        await run.resource(r.kind, r.id, r.apiVersion, 'delete-failed', msg);
        report.failed.push({ id: r.id, error: msg });
        break;
      }
    }
    if (report.failed.length) break;
  }
  const left = run.live().length;
  await run.update({ status: left ? 'teardown-failed' : 'torn-down' });
  return report;
}

/**
 * Runs `fn` with an AbortSignal that fires on SIGINT/SIGTERM, and always runs `cleanup` afterwards (success, error
 * or signal). Handlers stay installed until cleanup ends, so a second Ctrl-C cannot cut teardown short.
 * On a signal the result is an InterruptedError (unless `fn` failed otherwise first).
 */
export async function withCleanup<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  cleanup: () => Promise<unknown>,
  opts: {
    signals?: NodeJS.Signals[];
    emitter?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
    log?: (line: string) => void;
    /**
     * While work that must not be cut runs (the upload of outputs only the VM holds), returns what a first signal
     * will do instead of stopping; that signal is then passed to `onHold` and a second one stops at once.
     */
    hold?: (sig: string) => string | undefined;
    onHold?: (sig: string) => void;
    /** What a signal during cleanup says (default: resources are still being deleted). */
    duringCleanup?: () => string;
  } = {},
): Promise<T> {
  const emitter = opts.emitter ?? process;
  const log = opts.log ?? stderrLines('');
  const ac = new AbortController();
  let held: string | undefined;
  const handlers = (opts.signals ?? ['SIGINT', 'SIGTERM']).map((sig) => {
    const h = () => {
      if (ac.signal.aborted) return log(`${sig}: ${opts.duringCleanup?.() ?? "still deleting cloud resources; they are recorded for 'aicert down'"}`);
      const holding = held === undefined ? opts.hold?.(sig) : undefined;
      if (holding !== undefined) {
        held = sig;
        log(`${sig}: ${holding}`);
        return opts.onHold?.(sig);
      }
      log(held !== undefined ? `${sig} again: stopping now` : `${sig}: stopping; deleting cloud resources…`);
      ac.abort(new InterruptedError(sig));
    };
    emitter.on(sig, h);
    return [sig, h] as const;
  });
  try {
    const out = await fn(ac.signal);
    ac.signal.throwIfAborted();
    return out;
  } catch (e) {
    throw ac.signal.aborted && !(e instanceof InterruptedError) && isAbortLike(e) ? ac.signal.reason : e;
  } finally {
    try {
      await cleanup();
    } finally {
      for (const [sig, h] of handlers) emitter.off(sig, h);
    }
  }
}

/** True for errors fetch/timers raise on abort. */
function isAbortLike(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'InterruptedError');
}

/** Deletes every resource a run still owns (VM → disk → NIC → IP → NSG → vnet) and records the outcome. */
export async function downRun(
  runId: string,
  opts: { arm: ArmClient | ((state: RunState) => ArmClient); home?: string; log?: (line: string) => void; teardown?: Omit<TeardownOptions, 'log'> },
): Promise<TeardownReport> {
  const run = await RunFile.open(runId, opts.home);
  const arm = typeof opts.arm === 'function' ? opts.arm(run.state) : opts.arm;
  // A kept run holds outputs storage does not: say what deleting it loses.
  const s = run.state;
  if (s.status === 'kept' && s.unsavedOutputs) opts.log?.(`run ${runId} holds outputs not confirmed in storage; deleting its VM LOSES ${s.unsavedOutputs}`);
  return teardown(run, arm, { ...opts.teardown, ...(opts.log ? { log: opts.log } : {}) });
}
