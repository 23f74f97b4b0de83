/**
 * A loopback fake of Azure Resource Manager (HTTPS on 127.0.0.1, self-signed cert made with openssl at start).
 * Shapes follow azure-rest-api-specs examples (Microsoft.Network 2024-05-01, Microsoft.Compute 2024-07-01):
 * PUT → 201 + Azure-AsyncOperation (or Location) + Retry-After, operations step InProgress → Succeeded/Failed,
 * DELETE → 202, absent resources → 404 on GET and 204 on DELETE, in-use dependencies refused as ARM does.
 * It records every resource so a test can assert that nothing is left.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsFetch, type TokenCredential } from '../../src/launcher/arm.js';

export interface FakeArmOptions {
  /** Existing resource groups (any subscription). Default ['aicert-test']. */
  resourceGroups?: string[];
  /** Address the public IP resources get. Default 127.0.0.1. */
  publicIp?: string;
  /** 'async-operation' (default) answers with Azure-AsyncOperation; 'location' with Location only. */
  lro?: 'async-operation' | 'location';
  /** Polls answered InProgress before an operation ends (default 1). */
  inProgressPolls?: number;
  /** An operation also lasts at least this long (default 0): slow operations. */
  opDelayMs?: number;
  /** An operation nobody polls completes on its own after opDelayMs + this (default 300). */
  autoCompleteMs?: number;
  /** Retry-After seconds on LRO responses (default 0). */
  retryAfter?: number;
  /** Pad operation URLs beyond 4 KB, as ARM may. */
  longUrls?: boolean;
  /** The clock for reservation windows (default Date.now); tests share it with teardown's injected clock. */
  now?: () => number;
  /** After a VM create fails, its NIC answers DELETE with 400 NicReservedForAnotherVm for this long (default 0: off). */
  nicReservationMs?: number;
  /** After a NIC is deleted, its vnet answers DELETE with 400 InUseSubnetCannotBeDeleted for this long (default 0). */
  subnetLingerMs?: number;
  /** VM creation is refused (409 OperationNotAllowed) for exceeding the family's vCPU quota, although usages said otherwise. */
  quotaFailureOnCreate?: boolean;
  /** The gallery image every image id resolves to (default: Specialized, V2, TrustedLaunch, replicated to westeurope). */
  image?: FakeImage;
  /** VM sizes offered (default: the NCads A100 v4 and H100 v5 sizes in westeurope, unrestricted). */
  skus?: Record<string, any>[];
  /** Compute usages in the region (default: 96 of 0 used for each GPU family, 100 regional cores). */
  usages?: { name: string; currentValue: number; limit: number }[];
  /** Resource providers not registered (default none). */
  unregistered?: string[];
}

/** A gallery image definition and its version, as Microsoft.Compute/galleries answers. */
export interface FakeImage {
  osState?: 'Specialized' | 'Generalized';
  hyperVGeneration?: 'V1' | 'V2';
  /** SecurityType feature value; null: no feature. Default TrustedLaunchSupported. */
  securityType?: string | null;
  purchasePlan?: { name: string; publisher: string; product: string };
  targetRegions?: string[];
  /** The version does not exist. */
  noVersion?: boolean;
}

/** The SKU entry of a GPU size (shape of Resource Skus - List). */
export function fakeSku(name: string, family: string, vCpus: number, o: { location?: string; restrictions?: Record<string, any>[]; zones?: string[] } = {}): Record<string, any> {
  const location = o.location ?? 'westeurope';
  return {
    resourceType: 'virtualMachines', name, tier: 'Standard', size: name.replace(/^Standard_/, ''), family, locations: [location],
    locationInfo: [{ location, zones: o.zones ?? ['1', '2', '3'] }],
    capabilities: [{ name: 'vCPUs', value: String(vCpus) }, { name: 'HyperVGenerations', value: 'V1,V2' }],
    restrictions: o.restrictions ?? [],
  };
}

export interface Injection {
  method?: string;
  /** Resource type's last segment, e.g. 'virtualMachines'; omitted: any request. */
  type?: string;
  status: number;
  retryAfter?: number;
  times?: number;
}

export interface FakeResource {
  id: string;
  type: string;
  name: string;
  provisioningState: string;
  body: Record<string, any>;
}

interface Op {
  id: string;
  kind: 'put' | 'delete';
  resourceId: string;
  started: number;
  polls: number;
  outcome: 'Succeeded' | 'Failed';
  done: boolean;
}

const API: Record<string, string> = {
  'microsoft.network': '2024-05-01',
  'microsoft.compute/virtualmachines': '2024-07-01',
  'microsoft.compute/disks': '2024-03-02',
  resourcegroups: '2021-04-01',
};
const TYPES = new Set(['virtualnetworks', 'publicipaddresses', 'networksecuritygroups', 'networkinterfaces', 'virtualmachines', 'disks']);

export class FakeArm {
  readonly token = 'fake-arm-token';
  readonly requests: { method: string; path: string; status: number; body?: any }[] = [];
  ca = '';
  url = '';
  private server: Server | undefined;
  private readonly res = new Map<string, FakeResource>();
  private readonly ops = new Map<string, Op>();
  private readonly injections: Injection[] = [];
  private readonly failTypes: { type: string; code: string }[] = [];
  private readonly rgs: Set<string>;
  private readonly reserved = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: FakeArmOptions = {}) {
    this.rgs = new Set((o.resourceGroups ?? ['aicert-test']).map((g) => g.toLowerCase()));
    this.now = o.now ?? Date.now;
  }

  /** A TokenCredential handing out the token the fake accepts. */
  readonly credential: TokenCredential = { getToken: async () => ({ token: this.token, expiresOnTimestamp: Date.now() + 3600_000 }) };

  /** A fetch that trusts the fake's certificate. */
  get fetch() {
    return httpsFetch(this.ca);
  }

  async start(): Promise<this> {
    const dir = mkdtempSync(join(tmpdir(), 'fake-arm-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'),
        '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
      this.ca = readFileSync(join(dir, 'c.pem'), 'utf8');
      const key = readFileSync(join(dir, 'k.pem'));
      this.server = createServer({ key, cert: this.ca, maxHeaderSize: 64 * 1024 }, (q, r) => void this.handle(q, r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  /** Answer the next `times` matching requests with an error status. */
  inject(i: Injection): void {
    this.injections.push({ times: 1, ...i });
  }

  /** Drops every pending injection. */
  clearInjections(): void {
    this.injections.length = 0;
  }

  /** The next PUT of this type ends with provisioningState Failed. */
  failProvisioning(type: string, code = 'AllocationFailed'): void {
    this.failTypes.push({ type: type.toLowerCase(), code });
  }

  /** Resources that exist (in any state, Failed and Deleting included). */
  resources(): FakeResource[] {
    this.advance();
    return [...this.res.values()];
  }

  private async handle(q: IncomingMessage, r: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of q) chunks.push(c as Buffer);
    const u = new URL(q.url ?? '/', 'https://x');
    const method = q.method ?? 'GET';
    const text = Buffer.concat(chunks).toString('utf8');
    let body: any;
    const send = (status: number, b?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path: u.pathname, status, ...(body !== undefined ? { body } : {}) });
      r.writeHead(status, { 'x-ms-request-id': randomUUID(), ...(b !== undefined ? { 'content-type': 'application/json' } : {}), ...headers });
      r.end(b !== undefined ? JSON.stringify(b) : undefined);
    };
    const err = (status: number, code: string, message: string, headers?: Record<string, string>) => send(status, { error: { code, message } }, headers);
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return err(400, 'InvalidRequestContent', 'body is not JSON');
    }
    if (q.headers.authorization !== `Bearer ${this.token}`) return err(401, 'AuthenticationFailed', 'bad or missing bearer token');
    this.advance();
    const seg = u.pathname.split('/').filter(Boolean);
    const type = seg.length === 8 && /^resourcegroups$/i.test(seg[2]!) ? seg[6]!.toLowerCase() : undefined;
    // Injected throttling / server errors come first, as a front door would send them.
    const inj = this.injections.find((i) => (!i.method || i.method === method) && (!i.type || i.type.toLowerCase() === type) && (i.times ?? 1) > 0);
    if (inj) {
      inj.times = (inj.times ?? 1) - 1;
      return err(inj.status, inj.status === 429 ? 'TooManyRequests' : 'InternalServerError', 'injected', inj.retryAfter !== undefined ? { 'retry-after': String(inj.retryAfter) } : {});
    }
    // Operation status (Azure-AsyncOperation) and operation results (Location).
    if (seg.length === 8 && /^providers$/i.test(seg[2]!) && /^locations$/i.test(seg[4]!) && /^operation(s|results)$/i.test(seg[6]!)) {
      const op = this.ops.get(seg[7]!);
      if (!op) return err(404, 'NotFound', 'no such operation');
      op.polls++;
      this.advance();
      if (/^operations$/i.test(seg[6]!)) {
        const status = op.done ? op.outcome : 'InProgress';
        return send(200, { name: op.id, status, startTime: new Date(op.started).toISOString(),
          ...(status === 'Failed' ? { error: { code: this.failCodeFor(op), message: 'injected provisioning failure' } } : {}) }, this.retry());
      }
      if (!op.done) return send(202, undefined, { location: this.opUrl(op, 'operationResults'), ...this.retry() });
      const res = this.res.get(op.resourceId.toLowerCase());
      return op.kind === 'delete' || !res ? send(204) : send(200, this.view(res));
    }
    const ver = u.searchParams.get('api-version');
    const cat = method === 'GET' ? this.catalog(seg, u) : undefined;
    if (cat) return cat[0] === 200 ? send(200, cat[1]) : err(cat[0], String(cat[1]), 'not found');
    // Resource groups: only GET of pre-existing ones.
    if (seg.length === 4 && /^resourcegroups$/i.test(seg[2]!)) {
      if (ver !== API.resourcegroups) return err(400, 'NoRegisteredProviderFound', `api-version ${ver} not supported`);
      if (method !== 'GET') return err(403, 'AuthorizationFailed', 'the launcher may not touch resource groups');
      return this.rgs.has(seg[3]!.toLowerCase()) ? send(200, { id: u.pathname, name: seg[3], location: 'westeurope', properties: { provisioningState: 'Succeeded' } }) : err(404, 'ResourceGroupNotFound', `Resource group '${seg[3]}' could not be found.`);
    }
    if (seg.length !== 8 || !/^resourcegroups$/i.test(seg[2]!) || !/^providers$/i.test(seg[4]!) || !TYPES.has(type!))
      return err(400, 'InvalidResourceType', `unsupported path ${u.pathname}`);
    const ns = seg[5]!.toLowerCase();
    const want = API[ns] ?? API[`${ns}/${type}`];
    if (ver !== want) return err(400, 'NoRegisteredProviderFound', `api-version ${ver} not supported for ${ns}/${type}; use ${want}`);
    if (!this.rgs.has(seg[3]!.toLowerCase())) return err(404, 'ResourceGroupNotFound', `Resource group '${seg[3]}' could not be found.`);
    const id = `/subscriptions/${seg[1]}/resourceGroups/${seg[3]}/providers/${seg[5]}/${seg[6]}/${seg[7]}`;
    const cur = this.res.get(id.toLowerCase());
    if (method === 'GET') return cur ? send(200, this.view(cur)) : err(404, 'ResourceNotFound', `The Resource '${seg[5]}/${seg[6]}/${seg[7]}' under resource group '${seg[3]}' was not found.`);
    if (method === 'DELETE') return this.remove(id, cur, send, err);
    if (method === 'PUT') return this.create(id, ns, type!, seg[7]!, body, cur, send, err);
    return err(405, 'MethodNotAllowed', method);
  }

  /** Read-only catalogue: gallery images and versions, resource SKUs, usages, resource providers. */
  private catalog(seg: string[], u: URL): [number, unknown] | undefined {
    const path = seg.join('/').toLowerCase();
    const img = this.o.image ?? {};
    if (/^subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.compute\/galleries\/[^/]+\/images\/[^/]+$/.test(path)) {
      const features = img.securityType === null ? [] : [{ name: 'SecurityType', value: img.securityType ?? 'TrustedLaunchSupported' }];
      return [200, { id: u.pathname, name: seg[9], properties: { osType: 'Linux', osState: img.osState ?? 'Specialized', hyperVGeneration: img.hyperVGeneration ?? 'V2', features,
        identifier: { publisher: 'aicert', offer: 'runner', sku: 'v1' }, ...(img.purchasePlan ? { purchasePlan: img.purchasePlan } : {}), provisioningState: 'Succeeded' } }];
    }
    if (/^subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.compute\/galleries\/[^/]+\/images\/[^/]+\/versions\/[^/]+$/.test(path)) {
      if (img.noVersion) return [404, 'GalleryImageVersionNotFound'];
      return [200, { id: u.pathname, name: seg[11], properties: { provisioningState: 'Succeeded', publishingProfile: { targetRegions: (img.targetRegions ?? ['West Europe']).map((name) => ({ name, regionalReplicaCount: 1 })) } } }];
    }
    if (/^subscriptions\/[^/]+\/providers\/microsoft\.compute\/skus$/.test(path))
      return [200, { value: this.o.skus ?? [fakeSku('Standard_NC24ads_A100_v4', 'standardNCADSA100v4Family', 24), fakeSku('Standard_NC40ads_H100_v5', 'standardNCadsH100v5Family', 40)] }];
    if (/^subscriptions\/[^/]+\/providers\/microsoft\.compute\/locations\/[^/]+\/usages$/.test(path)) {
      const list = this.o.usages ?? [{ name: 'standardNCADSA100v4Family', currentValue: 0, limit: 96 }, { name: 'standardNCadsH100v5Family', currentValue: 0, limit: 80 }, { name: 'cores', currentValue: 0, limit: 100 }];
      return [200, { value: list.map((x) => ({ name: { value: x.name, localizedValue: x.name }, currentValue: x.currentValue, limit: x.limit, unit: 'Count' })) }];
    }
    if (/^subscriptions\/[^/]+\/providers\/microsoft\.[a-z]+$/.test(path)) {
      const ns = seg[3]!;
      return [200, { id: u.pathname, namespace: ns, registrationState: (this.o.unregistered ?? []).some((x) => x.toLowerCase() === ns.toLowerCase()) ? 'NotRegistered' : 'Registered' }];
    }
    return undefined;
  }

  /** PUT: validate references, record the resource, start an operation. */
  private create(id: string, ns: string, type: string, name: string, b: any, cur: FakeResource | undefined, send: Send, err: Err): void {
    if (!b || typeof b.location !== 'string') return err(400, 'LocationRequired', 'The location property is required for this definition.');
    if (cur && this.busy(cur.id)) return err(409, 'AnotherOperationInProgress', `Another operation on ${name} is in progress.`);
    const p = b.properties ?? {};
    const missing = (ref: any) => typeof ref?.id !== 'string' || !this.res.has(ref.id.replace(/\/subnets\/[^/]+$/i, '').toLowerCase());
    if (type === 'publicipaddresses' && (b.sku?.name !== 'Standard' || p.publicIPAllocationMethod !== 'Static'))
      return err(400, 'StandardSkuPublicIPAddressesMustBeStatic', 'only Standard static public IPs are created (Basic is retired)');
    if (type === 'networkinterfaces') {
      const ipc = p.ipConfigurations?.[0]?.properties;
      if (!ipc || missing(ipc.subnet) || missing(ipc.publicIPAddress) || missing(p.networkSecurityGroup))
        return err(400, 'InvalidResourceReference', 'Resource referenced by the network interface was not found.');
    }
    if (type === 'virtualmachines') {
      const nic = p.networkProfile?.networkInterfaces?.[0];
      if (missing(nic)) return err(400, 'InvalidResourceReference', 'Network interface not found.');
      if (typeof p.storageProfile?.imageReference?.id !== 'string') return err(400, 'InvalidParameter', 'imageReference.id is required.');
      const img = this.o.image ?? {};
      const reserve = () => this.reserved.set(nic.id.toLowerCase(), this.now() + (this.o.nicReservationMs ?? 0));
      if (img.securityType === null || (img.securityType !== undefined && !/TrustedLaunch/.test(img.securityType)))
        return reserve(), err(400, 'InvalidParameter', 'The Security Type TrustedLaunch is not supported by the image.');
      if ((img.osState ?? 'Specialized') === 'Specialized' && p.osProfile !== undefined)
        return reserve(), err(400, 'InvalidParameter', "Parameter 'osProfile' is not allowed with a specialized image.");
      if (img.osState === 'Generalized' && !/^ssh-rsa AAAA/.test(p.osProfile?.linuxConfiguration?.ssh?.publicKeys?.[0]?.keyData ?? ''))
        return reserve(), err(400, 'OSProvisioningClientError', 'A generalized image needs an osProfile with an admin user and an SSH public key.');
      if (img.purchasePlan && JSON.stringify(b.plan) !== JSON.stringify(img.purchasePlan))
        return reserve(), err(400, 'VMMarketplaceInvalidInput', 'Creating a virtual machine from a Marketplace image requires Plan information in the request.');
      if (this.o.quotaFailureOnCreate)
        return reserve(), err(409, 'OperationNotAllowed', 'Operation could not be completed as it results in exceeding approved standardNCADSA100v4Family Cores quota.');
      if (p.userData !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(p.userData)) return err(400, 'InvalidParameter', 'userData must be base64.');
      const disk = p.storageProfile.osDisk?.name ?? `${name}_OsDisk`;
      const did = id.replace(/virtualMachines\/[^/]+$/i, `disks/${disk}`);
      this.res.set(did.toLowerCase(), { id: did, type: 'Microsoft.Compute/disks', name: disk, provisioningState: 'Succeeded', body: { location: b.location, properties: { diskState: 'Attached' }, managedBy: id } });
      p.vmId = randomUUID();
    }
    if (type === 'publicipaddresses') p.ipAddress = this.o.publicIp ?? '127.0.0.1';
    const fail = this.failTypes.findIndex((f) => f.type === type);
    const state = ns === 'microsoft.compute' ? 'Creating' : 'Updating';
    const r: FakeResource = { id, type: `${ns === 'microsoft.compute' ? 'Microsoft.Compute' : 'Microsoft.Network'}/${typeName(type)}`, name, provisioningState: state, body: b };
    this.res.set(id.toLowerCase(), r);
    const op = this.startOp('put', id, fail >= 0 ? 'Failed' : 'Succeeded');
    if (fail >= 0) (op as Op & { code?: string }).code = this.failTypes.splice(fail, 1)[0]!.code;
    send(cur ? 200 : 201, this.view(r), this.lroHeaders(op));
  }

  /** DELETE: 204 when absent, refuse while in use, else 202 and remove when the operation ends. */
  private remove(id: string, cur: FakeResource | undefined, send: Send, err: Err): void {
    if (!cur) return send(204);
    const until = this.reserved.get(cur.id.toLowerCase());
    if (until !== undefined && this.now() < until)
      return err(400, cur.type.endsWith('networkInterfaces') ? 'NicReservedForAnotherVm' : 'InUseSubnetCannotBeDeleted', `${cur.name} is reserved for a VM for ${Math.ceil((until - this.now()) / 1000)} more seconds.`);
    if (this.busy(cur.id)) return err(409, 'AnotherOperationInProgress', `Another operation on ${cur.name} is in progress.`);
    const users = [...this.res.values()].filter((x) =>
      cur.type === 'Microsoft.Compute/disks'
        ? x.id === cur.body.managedBy
        : x !== cur && x.type !== 'Microsoft.Compute/disks' && JSON.stringify(x.body).toLowerCase().includes(`"${cur.id.toLowerCase()}`),
    );
    if (users.length) {
      const code = { 'Microsoft.Network/networkInterfaces': 'NicInUse', 'Microsoft.Network/publicIPAddresses': 'PublicIPAddressInUse',
        'Microsoft.Network/networkSecurityGroups': 'InUseNetworkSecurityGroupCannotBeDeleted', 'Microsoft.Network/virtualNetworks': 'InUseSubnetCannotBeDeleted',
        'Microsoft.Compute/disks': 'OperationNotAllowed' }[cur.type] ?? 'InUse';
      return err(code === 'OperationNotAllowed' ? 409 : 400, code, `${cur.name} is in use by ${users.map((x) => x.id).join(', ')}`);
    }
    cur.provisioningState = 'Deleting';
    send(202, undefined, this.lroHeaders(this.startOp('delete', cur.id, 'Succeeded')));
  }

  private startOp(kind: Op['kind'], resourceId: string, outcome: Op['outcome']): Op {
    const op: Op = { id: randomUUID(), kind, resourceId, started: Date.now(), polls: 0, outcome, done: false };
    this.ops.set(op.id, op);
    return op;
  }

  /** Ends every running operation now, as if its time had come (tests wait on this, not on the clock). */
  settle(): void {
    this.advance(true);
  }

  /** Ends operations whose time has come (or all, with `all`) and applies their effect. */
  private advance(all = false): void {
    const now = Date.now();
    const delay = this.o.opDelayMs ?? 0;
    for (const op of this.ops.values()) {
      if (op.done) continue;
      const age = now - op.started;
      if (!all && !((op.polls > (this.o.inProgressPolls ?? 1) && age >= delay) || age >= delay + (this.o.autoCompleteMs ?? 300))) continue;
      op.done = true;
      const r = this.res.get(op.resourceId.toLowerCase());
      if (!r) continue;
      if (op.kind === 'delete') {
        this.res.delete(r.id.toLowerCase());
        // A deleted NIC's subnet stays "in use" for a while.
        if (r.type.endsWith('networkInterfaces') && this.o.subnetLingerMs) {
          const vnet = String(r.body.properties?.ipConfigurations?.[0]?.properties?.subnet?.id ?? '').replace(/\/subnets\/[^/]+$/i, '');
          this.reserved.set(vnet.toLowerCase(), this.now() + this.o.subnetLingerMs);
        }
        const os = r.body.properties?.storageProfile?.osDisk;
        if (os?.deleteOption === 'Delete') this.res.delete(r.id.replace(/virtualMachines\/[^/]+$/i, `disks/${os.name}`).toLowerCase());
      } else {
        r.provisioningState = op.outcome;
        // A VM that failed to create keeps its NIC reserved for a while, as Azure does.
        const nic = r.body.properties?.networkProfile?.networkInterfaces?.[0]?.id;
        if (op.outcome === 'Failed' && typeof nic === 'string') this.reserved.set(nic.toLowerCase(), now + (this.o.nicReservationMs ?? 0));
      }
    }
  }

  private busy(id: string): boolean {
    return [...this.ops.values()].some((o) => !o.done && o.resourceId.toLowerCase() === id.toLowerCase());
  }

  private failCodeFor(op: Op): string {
    return (op as Op & { code?: string }).code ?? 'InternalOperationError';
  }

  private view(r: FakeResource): Record<string, unknown> {
    return { ...r.body, id: r.id, name: r.name, type: r.type, properties: { ...r.body.properties, provisioningState: r.provisioningState } };
  }

  private opUrl(op: Op, kind: 'operations' | 'operationResults'): string {
    const ns = op.resourceId.split('/')[6];
    const pad = this.o.longUrls ? `&p=${'A'.repeat(5000)}` : '';
    return `${this.url}/subscriptions/${op.resourceId.split('/')[2]}/providers/${ns}/locations/westeurope/${kind}/${op.id}?api-version=2024-05-01${pad}`;
  }

  private retry(): Record<string, string> {
    return { 'retry-after': String(this.o.retryAfter ?? 0) };
  }

  private lroHeaders(op: Op): Record<string, string> {
    return this.o.lro === 'location' ? { location: this.opUrl(op, 'operationResults'), ...this.retry() } : { 'azure-asyncoperation': this.opUrl(op, 'operations'), ...this.retry() };
  }
}

type Send = (status: number, b?: unknown, headers?: Record<string, string>) => void;
type Err = (status: number, code: string, message: string, headers?: Record<string, string>) => void;

function typeName(t: string): string {
  return { virtualnetworks: 'virtualNetworks', publicipaddresses: 'publicIPAddresses', networksecuritygroups: 'networkSecurityGroups', networkinterfaces: 'networkInterfaces', virtualmachines: 'virtualMachines', disks: 'disks' }[t] ?? t;
}

/** Starts a fake ARM server; remember to close() it. */
export async function startFakeArm(o: FakeArmOptions = {}): Promise<FakeArm> {
  return new FakeArm(o).start();
}
