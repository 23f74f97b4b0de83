// Checked before it costs money, and teardown that finishes: every preflight failure exits (2 config, 3 cloud) before
// any resource exists; Generalized and marketplace images get the request they need; Azure's transient refusals
// (a NIC reserved after a failed create, a subnet still in use, 429/5xx) are waited out on an injected clock, in
// dependency order, and `aicert down` resumes. Every path ends with nothing left in the fake ARM.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run as runs } from '../src/cli/cmd-runs.js';
import { ArmClient, armScopeFor } from '../src/launcher/arm.js';
import type { AzureSettings } from '../src/launcher/config.js';
import { runFinetune, type FinetuneOptions } from '../src/launcher/finetune.js';
import { createRun, isCidr, provision, teardown, type Clock } from '../src/launcher/provision.js';
import { RunFile } from '../src/launcher/state.js';
import { downRun } from '../src/launcher/provision.js';
import { fakeSku, startFakeArm, type FakeArm, type FakeArmOptions } from './helpers/fake-arm.js';

const SUB = '00000000-0000-4000-8000-000000000000';
const IMAGE = `/subscriptions/${SUB}/resourceGroups/aicert-test/providers/Microsoft.Compute/galleries/g/images/runner/versions/1.0.0`;
const azure: AzureSettings = { subscriptionId: SUB, resourceGroup: 'aicert-test', location: 'westeurope', imageId: IMAGE, vmSize: 'Standard_NC24ads_A100_v4', secureBoot: false };
const CONFIG = [
  `base_model: aicert-test/tiny-base@sha1:${'a'.repeat(40)}`,
  'datasets:',
  `  - path: aicert-test/tiny-instruct@sha1:${'b'.repeat(40)}`,
  '    name: data/train.jsonl',
  'aicert:',
  '  azure:',
  `    subscription_id: ${SUB}`,
  '    resource_group: aicert-test',
  '    location: westeurope',
  `    image_id: ${IMAGE}`,
  '    vm_size: Standard_NC24ads_A100_v4',
  '',
].join('\n');
const FAST = { minPollIntervalMs: 5, pollIntervalMs: 5, baseDelayMs: 5, maxDelayMs: 20 };

/** A virtual clock: sleeping advances it at once; the fake ARM's reservation windows read it too. */
function virtualClock(): Clock & { slept: number[] } {
  let t = Date.now();
  const slept: number[] = [];
  return { slept, now: () => t, sleep: async (ms) => void (slept.push(ms), (t += ms)) };
}

let fake: FakeArm;
let home: string;
let dir: string;
let config: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicert-preflight-'));
  home = join(dir, 'home');
  config = join(dir, 'aicert.yaml');
  writeFileSync(config, CONFIG);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fake?.close();
});
const start = async (o: FakeArmOptions = {}) => (fake = await startFakeArm(o));
const armOpts = () => ({ endpoint: fake.url, credential: fake.credential, fetch: fake.fetch, ...FAST });
const flow = (o: Partial<FinetuneOptions> = {}) => runFinetune({ config, home, arm: armOpts(), signals: [], allowUnattestedPlatform: true, log: () => undefined, onProvisioned: async () => { throw new Error('no VM should boot here'); }, ...o });
const puts = () => fake.requests.filter((q) => q.method === 'PUT');

describe('preflight: nothing is created when Azure cannot take the run', () => {
  const cases: [string, FakeArmOptions, 2 | 3, RegExp][] = [
    ['a Gen1 image', { image: { hyperVGeneration: 'V1' } }, 2, /Hyper-V V1; Trusted Launch needs a Generation 2/],
    ['an image without the Trusted Launch security feature', { image: { securityType: null } }, 2, /does not carry the SecurityType feature TrustedLaunch \(has none\)/],
    ['an image version not replicated to the region', { image: { targetRegions: ['East US'] } }, 2, /not replicated to westeurope \(only eastus\)/],
    ['a missing image version', { image: { noVersion: true } }, 2, /image version 1\.0\.0 of .* does not exist/],
    ['a size the region does not offer', { skus: [fakeSku('Standard_NC40ads_H100_v5', 'standardNCadsH100v5Family', 40)] }, 2, /Standard_NC24ads_A100_v4 is not offered in westeurope/],
    ['a size restricted for the subscription', { skus: [fakeSku('Standard_NC24ads_A100_v4', 'standardNCADSA100v4Family', 24, { restrictions: [{ type: 'Location', values: ['westeurope'], reasonCode: 'NotAvailableForSubscription' }] })] }, 2, /restricted in westeurope .*NotAvailableForSubscription/],
    ['GPU family quota at 0', { usages: [{ name: 'standardNCADSA100v4Family', currentValue: 0, limit: 0 }, { name: 'cores', currentValue: 0, limit: 100 }] }, 3, /0 of 0 vCPUs used, Standard_NC24ads_A100_v4 needs 24/],
    ['a resource provider not registered', { unregistered: ['Microsoft.Network'] }, 3, /Microsoft\.Network is NotRegistered.*az provider register/],
    ['a missing resource group', { resourceGroups: ['other'] }, 2, /resource group aicert-test does not exist/],
  ];
  for (const [what, o, exit, msg] of cases)
    it(`${what}: exit ${exit}`, async () => {
      await start(o);
      const r = await flow();
      expect(r.exit).toBe(exit);
      expect(r.error).toMatch(msg);
      expect(puts()).toEqual([]);
      expect(fake.resources()).toEqual([]);
      expect(r.runId).toBeUndefined();
    });

  it('the default size is offered, unrestricted, with quota: preflight passes and says so', async () => {
    await start({ quotaFailureOnCreate: true });
    const lines: string[] = [];
    writeFileSync(config, CONFIG.replace('    vm_size: Standard_NC24ads_A100_v4\n', ''));
    await flow({ log: (l) => lines.push(l), teardown: { clock: virtualClock() } });
    expect(lines.find((l) => l.startsWith('preflight ✓ vm-size'))).toMatch(/Standard_NC40ads_H100_v5 offered in westeurope \(zones 1,2,3\), 40 vCPUs/);
    expect(lines.filter((l) => l.startsWith('preflight ✓')).map((l) => l.split(':')[0])).toEqual(
      ['resource-group', 'providers', 'image', 'vm-size', 'quota'].map((id) => `preflight ✓ ${id}`),
    );
  });
});

describe('the image decides the VM request', () => {
  it('Generalized: osProfile with admin user and a run-only SSH public key; no private key anywhere', async () => {
    await start({ image: { osState: 'Generalized' } });
    const arm = new ArmClient(armOpts());
    const run = await createRun(arm, azure, { home });
    await provision({ arm, azure, run, nonce: randomBytes(32), image: { osState: 'Generalized', hyperVGeneration: 'V2' } });
    const vm = puts().find((q) => q.path.endsWith('-vm'))!.body;
    const os = vm.properties.osProfile;
    expect(os).toMatchObject({ adminUsername: 'aicert', linuxConfiguration: { disablePasswordAuthentication: true } });
    const key = os.linuxConfiguration.ssh.publicKeys[0];
    expect(key.path).toBe('/home/aicert/.ssh/authorized_keys');
    // OpenSSH wire format: string "ssh-rsa", mpint e, mpint n (3072 bits).
    const blob = Buffer.from(key.keyData.split(' ')[1], 'base64');
    expect(blob.subarray(4, 4 + blob.readUInt32BE(0)).toString()).toBe('ssh-rsa');
    expect(blob.length).toBeGreaterThan(390);
    const files = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]));
    for (const f of files(dir)) expect(readFileSync(f, 'utf8')).not.toMatch(/PRIVATE KEY/);
    expect((await teardown(run, arm, { clock: virtualClock() })).failed).toEqual([]);
    expect(fake.resources()).toEqual([]);
  });

  it('Specialized gets no osProfile; a marketplace-derived image gets its plan; both are refused by ARM otherwise', async () => {
    const plan = { name: 'runner', publisher: 'aicert', product: 'aicert-runner' };
    await start({ image: { purchasePlan: plan }, nicReservationMs: 0 });
    const arm = new ArmClient(armOpts());
    const run = await createRun(arm, azure, { home });
    await expect(provision({ arm, azure, run, nonce: randomBytes(32) })).rejects.toMatchObject({ code: 'VMMarketplaceInvalidInput' });
    expect((await teardown(run, arm, { clock: virtualClock() })).failed).toEqual([]);
    const run2 = await createRun(arm, azure, { home });
    await provision({ arm, azure, run: run2, nonce: randomBytes(32), image: { osState: 'Specialized', hyperVGeneration: 'V2', plan } });
    const vm = puts().filter((q) => q.path.endsWith('-vm')).at(-1)!.body;
    expect(vm.plan).toEqual(plan);
    expect(vm.properties.osProfile).toBeUndefined();
    expect(vm.properties.diagnosticsProfile).toEqual({ bootDiagnostics: { enabled: true } });
    expect((await teardown(run2, arm, { clock: virtualClock() })).failed).toEqual([]);
    expect(fake.resources()).toEqual([]);
  });

  it('runFinetune with a Generalized image through preflight: the VM is created with an osProfile', async () => {
    await start({ image: { osState: 'Generalized' } });
    const r = await flow({ teardown: { clock: virtualClock() } });
    expect(r.error).toMatch(/no VM should boot here/);
    expect(puts().find((q) => q.path.endsWith('-vm') && q.status === 201)?.body.properties.osProfile.adminUsername).toBe('aicert');
    expect(fake.resources()).toEqual([]);
  });
});

describe('teardown that finishes', () => {
  it('a quota failure on create leaves the NIC reserved for 180 s: teardown waits it out in order, nothing left', async () => {
    const clock = virtualClock();
    await start({ quotaFailureOnCreate: true, nicReservationMs: 180_000, subnetLingerMs: 30_000, now: clock.now });
    const lines: string[] = [];
    const t0 = Date.now();
    const r = await flow({ teardown: { clock }, log: (l) => lines.push(l), allowFrom: '198.51.100.0/24' });
    expect(r.exit).toBe(3);
    expect(r.error).toMatch(/OperationNotAllowed: .*quota/);
    expect(fake.resources()).toEqual([]);
    // Waited on the virtual clock for the reservation (>= 180 s) and the subnet (>= 30 s); in wall-clock, briefly.
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(210_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const codes = fake.requests.filter((q) => q.method === 'DELETE' && q.status === 400).map((q) => q.path.split('-').pop());
    expect(new Set(codes)).toEqual(new Set(['nic', 'vnet']));
    expect(lines.some((l) => /NicReservedForAnotherVm/.test(l))).toBe(true);
    const dels = fake.requests.filter((q) => q.method === 'DELETE' && q.status < 300).map((q) => q.path.split('-').pop());
    expect(dels).toEqual(['vm', 'osdisk', 'nic', 'ip', 'nsg', 'vnet']);
    const nsg = puts().find((q) => q.path.endsWith('-nsg'))!.body;
    expect(nsg.properties.securityRules[0].properties.sourceAddressPrefix).toBe('198.51.100.0/24');
    expect((await RunFile.open(r.runId!, home)).state.status).toBe('torn-down');
  });

  it('429 and 5xx on delete are retried; a reservation longer than the window stops there, and aicert down resumes', async () => {
    const clock = virtualClock();
    await start({ quotaFailureOnCreate: true, nicReservationMs: 3600_000, now: clock.now });
    fake.inject({ method: 'DELETE', type: 'virtualMachines', status: 429, retryAfter: 0 });
    fake.inject({ method: 'DELETE', type: 'publicIPAddresses', status: 503, times: 20 });
    const r = await flow({ teardown: { clock, retryForMs: 20 * 60_000 } });
    expect(r.exit).toBe(3);
    expect(r.error).toMatch(/could not be deleted: run 'aicert down/);
    // Stopped at the NIC: what depends on it (IP, NSG, vnet) was not attempted and is still recorded.
    const st = (await RunFile.open(r.runId!, home)).state;
    expect(st.status).toBe('teardown-failed');
    expect(st.resources.filter((x) => x.status !== 'deleted').map((x) => x.kind)).toEqual(['virtualNetwork', 'publicIPAddress', 'networkSecurityGroup', 'networkInterface']);
    expect(fake.resources().length).toBe(4);
    // An hour later the reservation is gone: aicert down resumes from the NIC (and waits out the 503s).
    await clock.sleep(3600_000);
    const rep = await downRun(r.runId!, { home, arm: new ArmClient({ ...armOpts(), maxRetries: 0 }), teardown: { clock } });
    expect(rep.failed).toEqual([]);
    expect(fake.resources()).toEqual([]);
    expect(fake.requests.filter((q) => q.method === 'DELETE' && q.status === 503)).toHaveLength(20);
    expect((await RunFile.open(r.runId!, home)).state.status).toBe('torn-down');
  });

  it('aicert runs says where a live VM serial log is', async () => {
    await start();
    const arm = new ArmClient(armOpts());
    const run = await createRun(arm, azure, { home });
    await provision({ arm, azure, run, nonce: randomBytes(32) });
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    expect(await runs([], { home })).toBe(0);
    vi.restoreAllMocks();
    expect(out).toContain(`${run.state.runId}: serial log: az vm boot-diagnostics get-boot-log --ids /subscriptions/${SUB}/resourceGroups/aicert-test/providers/Microsoft.Compute/virtualMachines/aicert-${run.state.runId}-vm`);
    await teardown(run, arm, { clock: virtualClock() });
    expect(fake.resources()).toEqual([]);
  });
});

describe('small things', () => {
  it('CIDR syntax, and the ARM token scope follows the endpoint', () => {
    expect(['203.0.113.7', '203.0.113.0/24', '2001:db8::/32', '0.0.0.0/0'].every(isCidr)).toBe(true);
    expect(['203.0.113.0/33', 'x/8', '1.2.3.4/8/9', '', '10.0.0.0/'].some(isCidr)).toBe(false);
    expect(armScopeFor('https://management.azure.com/')).toBe('https://management.azure.com/.default');
    expect(armScopeFor('https://management.usgovcloudapi.net')).toBe('https://management.usgovcloudapi.net/.default');
    expect(new ArmClient({ endpoint: 'https://management.chinacloudapi.cn', credential: { getToken: async () => null } }).scope).toBe('https://management.chinacloudapi.cn/.default');
  });
});
