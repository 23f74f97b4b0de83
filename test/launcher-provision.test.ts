// Provisioning, teardown, state files, `aicert runs` and `aicert down` against the loopback ARM fake.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run as down } from '../src/cli/cmd-down.js';
import { run as runs } from '../src/cli/cmd-runs.js';
import { main } from '../src/cli/main.js';
import { ArmClient, ArmOperationError } from '../src/launcher/arm.js';
import type { AzureSettings } from '../src/launcher/config.js';
import { createRun, InterruptedError, parseLaunchUserData, provision, teardown, withCleanup } from '../src/launcher/provision.js';
import { RunFile, type RunState } from '../src/launcher/state.js';
import { exitOf, runTool, until, within } from './helpers/bounded.js';
import { startFakeArm, type FakeArm, type FakeArmOptions } from './helpers/fake-arm.js';

const SUB = '0b7e3a42-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const azure: AzureSettings = {
  subscriptionId: SUB,
  resourceGroup: 'aicert-test',
  location: 'westeurope',
  imageId: `/subscriptions/${SUB}/resourceGroups/imgs/providers/Microsoft.Compute/galleries/g/images/mithril-os/versions/1.0.0`,
  vmSize: 'Standard_NC24ads_A100_v4',
  secureBoot: false,
};
const FAST = { minPollIntervalMs: 5, pollIntervalMs: 5, baseDelayMs: 5, maxDelayMs: 20 };
const TD = { conflictDelayMs: 100 };

let fake: FakeArm;
let home: string;
let arm: ArmClient;
async function start(o: FakeArmOptions = {}) {
  fake = await startFakeArm(o);
  arm = new ArmClient({ endpoint: fake.url, credential: fake.credential, fetch: fake.fetch, ...FAST });
}
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'aicert-home-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fake?.close();
});

/** stdout and the exit code of a CLI call. */
async function capture(f: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await f(), out, err };
  } finally {
    vi.restoreAllMocks();
  }
}
const stateOf = (r: RunFile): RunState => JSON.parse(readFileSync(r.path, 'utf8')) as RunState;
const puts = () => fake.requests.filter((q) => q.method === 'PUT' && q.status < 300).map((q) => q.path.split('/')[8] ?? '');

describe('provision and teardown', () => {
  it('creates vnet, IP, NSG, NIC and a Trusted Launch VM, then deletes everything', async () => {
    await start();
    const run = await createRun(arm, azure, { home, config: 'aicert.yaml' });
    const nonce = randomBytes(32);
    const vm = await provision({ arm, azure: { ...azure, secureBoot: true }, run, nonce, callerIp: '203.0.113.7' });
    expect(vm.publicIp).toBe('127.0.0.1');
    expect(vm.vmId).toMatch(/^[0-9a-f-]{36}$/);
    const id = run.state.runId;
    expect(puts()).toEqual(['vnet', 'ip', 'nsg', 'nic', 'vm'].map((s) => `aicert-${id}-${s}`));
    expect(fake.resources().map((r) => r.type).sort()).toEqual([
      'Microsoft.Compute/disks', 'Microsoft.Compute/virtualMachines', 'Microsoft.Network/networkInterfaces',
      'Microsoft.Network/networkSecurityGroups', 'Microsoft.Network/publicIPAddresses', 'Microsoft.Network/virtualNetworks',
    ]);
    // The bodies ARM received.
    const body = (s: string) => fake.requests.find((q) => q.method === 'PUT' && q.path.endsWith(`-${s}`))!.body;
    const vmBody = body('vm');
    expect(vmBody.properties.securityProfile).toEqual({ securityType: 'TrustedLaunch', uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } });
    expect(vmBody.properties.storageProfile.imageReference).toEqual({ id: azure.imageId });
    expect(vmBody.properties.hardwareProfile.vmSize).toBe('Standard_NC24ads_A100_v4');
    expect(vmBody.properties.osProfile).toBeUndefined();
    const ud = JSON.parse(Buffer.from(vmBody.properties.userData, 'base64').toString('utf8'));
    expect(ud).toEqual({ aicert_launch: { version: 1, run_id: id, nonce: nonce.toString('hex') } });
    expect(Buffer.from(parseLaunchUserData(vmBody.properties.userData).nonce)).toEqual(nonce);
    expect(body('ip').sku.name).toBe('Standard');
    expect(body('ip').properties.publicIPAllocationMethod).toBe('Static');
    const rules = body('nsg').properties.securityRules.map((r: { properties: Record<string, unknown> }) => r.properties);
    expect(rules[0]).toMatchObject({ access: 'Allow', direction: 'Inbound', destinationPortRange: '443', sourceAddressPrefix: '203.0.113.7', protocol: 'Tcp' });
    expect(rules[1]).toMatchObject({ access: 'Deny', direction: 'Inbound', destinationPortRange: '*', priority: 4096 });
    // The state file lists every resource as created.
    const st = stateOf(run);
    expect(st).toMatchObject({ runId: id, status: 'running', publicIp: '127.0.0.1', armEndpoint: `${fake.url}/`, config: 'aicert.yaml' });
    expect(st.resources.map((r) => [r.kind, r.status])).toEqual([
      ['virtualNetwork', 'created'], ['publicIPAddress', 'created'], ['networkSecurityGroup', 'created'],
      ['networkInterface', 'created'], ['disk', 'created'], ['virtualMachine', 'created'],
    ]);

    const rep = await teardown(run, arm, TD);
    expect(rep.failed).toEqual([]);
    expect(fake.resources()).toEqual([]);
    const dels = fake.requests.filter((q) => q.method === 'DELETE').map((q) => `${q.path.split('/').pop()}:${q.status}`);
    expect(dels).toEqual(['vm:202', 'osdisk:204', 'nic:202', 'ip:202', 'nsg:202', 'vnet:202'].map((s) => `aicert-${id}-${s}`));
    expect(stateOf(run).status).toBe('torn-down');
    expect(stateOf(run).resources.every((r) => r.status === 'deleted')).toBe(true);
    // Idempotent: a second teardown has nothing to do.
    expect(await teardown(run, arm, TD)).toEqual({ deleted: [], absent: [], failed: [] });
  });

  it('429 → 500 → Failed provisioning ends in a typed error and leaves nothing', async () => {
    await start();
    fake.inject({ method: 'PUT', type: 'virtualMachines', status: 429, retryAfter: 0 });
    fake.inject({ method: 'PUT', type: 'virtualMachines', status: 500 });
    fake.failProvisioning('virtualMachines', 'AllocationFailed');
    const run = await createRun(arm, azure, { home });
    let left: number | undefined;
    const e = await withCleanup(
      (signal) => provision({ arm, azure, run, nonce: randomBytes(32), signal }),
      async () => {
        left = fake.resources().length;
        await teardown(run, arm, TD);
      },
      { emitter: new EventEmitter(), log: () => {} },
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ArmOperationError);
    expect(e).toMatchObject({ status: 'Failed', code: 'AllocationFailed' });
    expect(fake.requests.filter((q) => q.method === 'PUT' && q.path.endsWith('-vm')).map((q) => q.status)).toEqual([429, 500, 201]);
    expect(left).toBe(6);
    expect(fake.resources()).toEqual([]);
    expect(stateOf(run).resources.find((r) => r.kind === 'virtualMachine')).toMatchObject({ status: 'deleted' });
  });

  it('a SIGINT mid-provisioning aborts, tears down, and leaves nothing', async () => {
    await start({ opDelayMs: 150 });
    const emitter = new EventEmitter();
    const run = await createRun(arm, azure, { home });
    const logs: string[] = [];
    const timer = setInterval(() => {
      if (fake.requests.some((q) => q.method === 'PUT' && q.path.endsWith('-nic'))) emitter.emit('SIGINT');
    }, 5);
    const e = await withCleanup(
      (signal) => provision({ arm, azure, run, nonce: randomBytes(32), signal }),
      () => teardown(run, arm, TD),
      { emitter, log: (l) => logs.push(l) },
    )
      .catch((x: unknown) => x)
      .finally(() => clearInterval(timer));
    expect(e).toBeInstanceOf(InterruptedError);
    expect((e as InterruptedError).signal).toBe('SIGINT');
    expect(logs[0]).toMatch(/SIGINT: stopping/);
    // Further Ctrl-C during teardown cannot cut it short.
    expect(logs.slice(1).some((l) => /still deleting cloud resources/.test(l))).toBe(true);
    expect(puts().some((p) => p.endsWith('-vm'))).toBe(false);
    expect(fake.resources()).toEqual([]);
    expect(stateOf(run).status).toBe('torn-down');
    expect(emitter.listenerCount('SIGINT') + emitter.listenerCount('SIGTERM')).toBe(0);
  });

  it('a real SIGINT to a launcher process tears down before it exits', async () => {
    await start({ opDelayMs: 100 });
    // A tiny launcher bundled with esbuild from the real sources, run as its own process.
    const dir = mkdtempSync(join(tmpdir(), 'aicert-sigint-'));
    const src = join(dir, 'child.ts');
    const root = process.cwd().replace(/\\/g, '/');
    writeFileSync(src, `
      import { ArmClient, httpsFetch } from '${root}/src/launcher/arm.ts';
      import { createRun, provision, teardown, withCleanup } from '${root}/src/launcher/provision.ts';
      const env = JSON.parse(process.env.CHILD_ENV!);
      const arm = new ArmClient({ endpoint: env.url, fetch: httpsFetch(env.ca), minPollIntervalMs: 5, pollIntervalMs: 5, baseDelayMs: 5, maxDelayMs: 20, credential: { getToken: async () => ({ token: env.token, expiresOnTimestamp: Date.now() + 3600e3 }) } });
      const run = await createRun(arm, env.azure, { home: env.home, runId: 'sigint-child' });
      try {
        await withCleanup((signal) => provision({ arm, azure: env.azure, run, nonce: new Uint8Array(32), signal }), () => teardown(run, arm, { conflictDelayMs: 100 }));
      } catch (e) { process.stderr.write(String(e) + '\\n'); process.exit(3); }
    `);
    await runTool(join(root, 'node_modules/.bin/esbuild'), [src, '--bundle', '--platform=node', '--format=esm', '--external:@azure/identity', `--outfile=${join(dir, 'child.mjs')}`], 30_000, 'esbuild to bundle the launcher child');
    const child = spawn(process.execPath, [join(dir, 'child.mjs')], {
      env: { ...process.env, CHILD_ENV: JSON.stringify({ url: fake.url, ca: fake.ca, token: fake.token, azure, home }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = exitOf(child, 40_000, 'the launcher child to tear down and exit after SIGINT');
    exited.catch(() => undefined);
    await within(until(() => fake.requests.some((q) => q.method === 'PUT' && q.path.endsWith('-nsg')), 30_000, 'the child to PUT its NSG'), 30_000, 'the child to PUT its NSG', () => child.kill('SIGKILL'));
    child.kill('SIGINT');
    const code = await exited;
    expect(err).toMatch(/SIGINT: stopping[\s\S]*interrupted by SIGINT/);
    expect(code).toBe(3);
    expect(fake.resources()).toEqual([]);
    expect((await RunFile.open('sigint-child', home)).state.status).toBe('torn-down');
  });

  it('withCleanup removes its process handlers and runs cleanup on success', async () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    let inside: number[] = [];
    let cleaned = false;
    const v = await withCleanup(
      async () => ((inside = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]), 42),
      async () => void (cleaned = true),
    );
    expect([v, cleaned]).toEqual([42, true]);
    expect(inside).toEqual(before.map((n) => n + 1));
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });

  it('refuses a missing resource group before creating anything', async () => {
    await start({ resourceGroups: ['other'] });
    const run = await createRun(arm, azure, { home });
    await expect(provision({ arm, azure, run, nonce: randomBytes(32) })).rejects.toMatchObject({ code: 'ResourceGroupNotFound' });
    expect(fake.requests.filter((q) => q.method === 'PUT')).toEqual([]);
    await expect(provision({ arm, azure, run, nonce: randomBytes(16) })).rejects.toThrow(TypeError);
  });
});

describe('aicert runs / aicert down', () => {
  /** A run that "crashed" after its NIC: no teardown ran; the VM was recorded but its PUT never sent. */
  async function crashedRun(): Promise<string> {
    const run = await createRun(arm, azure, { home });
    const ac = new AbortController();
    const t = setInterval(() => fake.requests.some((q) => q.method === 'PUT' && q.path.endsWith('-nic') && q.status === 201) && ac.abort(new Error('crash')), 2);
    await provision({ arm, azure, run, nonce: randomBytes(32), signal: ac.signal }).catch(() => {});
    clearInterval(t);
    // Operations the dead process left running finish on their own (no waiting on the clock: the fake ends them now).
    fake.settle();
    await run.resource('virtualMachine', run.state.resources[0]!.id.replace(/Network\/virtualNetworks\/.*-vnet$/, 'Compute/virtualMachines/never-sent'), '2024-07-01', 'creating');
    return run.state.runId;
  }
  const deps = () => ({ home, arm: { credential: fake.credential, fetch: fake.fetch, ...FAST } });

  it('aicert down RUN deletes what a crashed run left, and is idempotent', async () => {
    await start({ opDelayMs: 50 });
    const id = await crashedRun();
    expect(fake.resources().length).toBeGreaterThanOrEqual(4);
    const r1 = await capture(() => down([id], deps()));
    expect(r1.code).toBe(0);
    expect(r1.out).toMatch(new RegExp(`^run ${id}: deleted \\d, already gone \\d; nothing left\\n$`));
    expect(fake.resources()).toEqual([]);
    const r2 = await capture(() => down([id], deps()));
    expect([r2.code, r2.out]).toEqual([0, `run ${id}: nothing left\n`]);
  });

  it('exit 3 when cloud calls fail (state keeps the failure), 0 once they succeed', async () => {
    await start();
    const id = await crashedRun();
    fake.inject({ method: 'DELETE', status: 500, times: 1000 });
    const r = await capture(() => down([id], { ...deps(), arm: { ...deps().arm, maxRetries: 1 }, teardown: { retryForMs: 0 } }));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/could not delete .*ARM 500/);
    const st = (await RunFile.open(id, home)).state;
    expect(st.status).toBe('teardown-failed');
    expect(st.resources.some((x) => x.status === 'delete-failed' && /500/.test(x.error ?? ''))).toBe(true);
    fake.clearInjections();
    expect((await capture(() => down([id], deps()))).code).toBe(0);
    expect(fake.resources()).toEqual([]);
  });

  it('usage errors and unknown runs exit 2', async () => {
    await start();
    expect((await capture(() => main(['down']))).code).toBe(2);
    expect((await capture(() => main(['down', 'a', 'b']))).code).toBe(2);
    const r = await capture(() => down(['no-such-run'], deps()));
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/no run 'no-such-run'/)]);
    expect((await capture(() => down(['../../etc/passwd'], deps()))).code).toBe(2);
  });

  it('aicert runs --json lists runs as one JSON array (via $AICERT_HOME)', async () => {
    await start();
    const a = await createRun(arm, azure, { home, runId: '20250101-000000-aaaaaa' });
    await a.update({ status: 'torn-down' });
    const b = await crashedRun();
    vi.stubEnv('AICERT_HOME', home);
    const r = await capture(() => main(['runs', '--json']));
    vi.unstubAllEnvs();
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as RunState[];
    expect(list.map((x) => x.runId).sort()).toEqual(['20250101-000000-aaaaaa', b].sort());
    expect(list.find((x) => x.runId === b)!.resources.length).toBeGreaterThanOrEqual(5);
    // Human table, and a corrupt state file: still listed, but exit 2.
    writeFileSync(join(home, 'runs', 'broken.json'), '{');
    const t = await capture(() => runs([], { home }));
    expect(t.code).toBe(2);
    expect(t.out).toMatch(/^RUN +STATUS +CREATED/);
    expect(t.out).toContain(b);
    expect(t.err).toMatch(/skipping .*broken\.json/);
    expect((await capture(() => main(['runs', 'x']))).code).toBe(2);
  });
});
