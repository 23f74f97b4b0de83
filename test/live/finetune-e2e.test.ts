/**
 * `aicert finetune` end to end on one machine, loopback only: the fake ARM (test/helpers/fake-arm.ts) stands for
 * Azure and returns 127.0.0.1 for the VM, the "VM" is the reference runner process on a fresh swtpm (its launch
 * nonce read from the userData the launcher sent to ARM), Azurite holds the outputs. Every scenario ends with a
 * clear error or a verified result, and nothing left in the fake ARM.
 * Expected values: golden PCRs from tpm2_pcrread, the image id from sha256sum of the trainer script.
 */
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFinetune, type FinetuneOptions, type FinetuneResult } from '../../src/launcher/finetune.js';
import { parseLaunchUserData } from '../../src/launcher/provision.js';
import { ArmClient } from '../../src/launcher/arm.js';
import { downRun } from '../../src/launcher/provision.js';
import { startAzurite, azuriteAvailable, type Azurite } from '../helpers/azurite.js';
import { startFakeArm, type FakeArm } from '../helpers/fake-arm.js';
import { impostor, tcpProxy } from '../helpers/net-faults.js';
import { makeCa, makeMirror, provisionedSwtpm, spawnRunner, tempDir, TRAINER, type RunnerProcess, type TestCa } from '../helpers/runner-rig.js';
import { swtpmAvailable, type Swtpm } from '../helpers/swtpm.js';

const run = promisify(execFile);
const AZURE = [
  'aicert:',
  '  azure:',
  '    subscription_id: 00000000-0000-4000-8000-000000000000',
  '    resource_group: aicert-test',
  '    location: westeurope',
  '    image_id: /subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/aicert-test/providers/Microsoft.Compute/galleries/g/images/runner/versions/1.0.0',
  '',
].join('\n');

describe.skipIf(!swtpmAvailable() || !azuriteAvailable())('aicert finetune end to end (fake ARM, swtpm runner, Azurite)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  let azurite: Azurite;
  let mirror: string;
  let configPath: string;
  let measurements: string;
  let containers: string;
  const cleanups: (() => Promise<unknown>)[] = [];
  let n = 0;

  beforeAll(async () => {
    tmp = await tempDir('aicert-e2e-');
    ca = await makeCa(join(tmp.dir, 'ca'));
    azurite = await startAzurite();
    const m = await makeMirror(join(tmp.dir, 'mirror'));
    mirror = m.mirror;
    configPath = join(tmp.dir, 'aicert.yaml');
    await writeFile(configPath, m.configYaml + AZURE);
    // Golden values from independent tools: boot PCRs 0-7 of a fresh provisioned swtpm, the trainer's sha256.
    const sw = await provisionedSwtpm(ca);
    const { stdout } = await run('tpm2_pcrread', ['sha256:0,1,2,3,4,5,6,7'], { env: sw.env }).finally(() => sw.stop());
    const golden = Object.fromEntries([...stdout.matchAll(/^\s*(\d+)\s*:\s*0x([0-9A-F]{64})/gim)].map((x) => [x[1]!, x[2]!.toLowerCase()]));
    expect(Object.keys(golden)).toHaveLength(8);
    measurements = JSON.stringify({ measurements: golden });
    const { stdout: sum } = await run('sha256sum', [TRAINER]);
    containers = JSON.stringify({ '@local/aicert-runner:test': `sha256:${sum.split(' ')[0]}` });
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await azurite?.stop();
    await tmp?.rm();
  });

  /** A fresh fake ARM, swtpm and (on provisioning) runner; returns the flow's result and the fakes. */
  async function scenario(o: {
    env?: Record<string, string>;
    runnerArgs?: string[];
    arm?: (f: FakeArm) => void;
    /** Put something between the launcher and the runner; returns the port the launcher uses. */
    front?: (runner: RunnerProcess) => Promise<number>;
    flow?: Partial<FinetuneOptions>;
    onLog?: (text: string, runner: RunnerProcess) => void;
  } = {}) {
    const id = ++n;
    const fake = await startFakeArm({ publicIp: '127.0.0.1' });
    cleanups.push(() => fake.close());
    o.arm?.(fake);
    const sw: Swtpm = await provisionedSwtpm(ca);
    cleanups.push(() => sw.stop());
    let runner: RunnerProcess | undefined;
    let logText = '';
    const lines: string[] = [];
    const dir = join(tmp.dir, `out-${id}`);
    const result: FinetuneResult = await runFinetune({
      config: configPath,
      dir,
      storageUrl: `${azurite.accountUrl}/runs${id}`,
      storageAuth: { connectionString: azurite.connectionString },
      trustAnchors: [ca.rootPem],
      measurements,
      containers,
      arm: { endpoint: fake.url, credential: fake.credential, fetch: fake.fetch, baseDelayMs: 5, maxDelayMs: 50, pollIntervalMs: 10, minPollIntervalMs: 5 },
      home: join(tmp.dir, 'home'),
      pollMs: 100,
      maxPollFailures: 3,
      signals: [],
      log: (l) => lines.push(l),
      onProgress: () => undefined,
      onLogText: (t) => {
        logText += t;
        if (runner) o.onLog?.(logText, runner);
      },
      // The "VM" boots: the runner reads the launch nonce from the userData the launcher gave ARM.
      onProvisioned: async (vm) => {
        const res = fake.resources().find((r) => r.type.toLowerCase().endsWith('virtualmachines'));
        const nonce = Buffer.from(parseLaunchUserData(res!.body.properties.userData).nonce).toString('hex');
        runner = await spawnRunner({ tcti: sw.tcti, mirror, workDir: join(tmp.dir, `work-${id}`), env: o.env ?? {}, args: ['--launch-nonce', nonce, '--cert-chain', join(ca.dir, 'intermediate.pem'), ...(o.runnerArgs ?? [])] });
        cleanups.push(() => runner!.stop());
        expect(vm.publicIp).toBe('127.0.0.1');
        return { port: o.front ? await o.front(runner) : new URL(runner.url).port ? Number(new URL(runner.url).port) : 443 };
      },
      ...o.flow,
    });
    const left = fake.resources().filter((r) => !/deleting/i.test(r.provisioningState));
    return { result, left, lines, logText, runner: runner!, dir, fake };
  }

  it('happy path: provisioned, attested, trained, uploaded, downloaded, verified, torn down', async () => {
    const s = await scenario();
    expect(s.result.error).toBeUndefined();
    expect(s.result.exit).toBe(0);
    expect(s.result.aibom?.valid).toBe(true);
    expect(s.result.attestation?.valid).toBe(true);
    expect(s.result.aibom?.checks.find((c) => c.id === 'artifacts')?.ok).toBe(true);
    expect(s.result.atls?.find((c) => c.id === 'atls.launch')?.ok).toBe(true);
    expect(s.result.atls?.find((c) => c.id === 'atls.boot')?.ok).toBe(true);
    expect(s.logText).toMatch(/step 4\/4/);
    // the downloaded weights are the ones on the runner (sha256sum of both copies)
    const [a, b] = await Promise.all([join(s.dir, 'outputs/lora-out/adapter_model.safetensors'), join(tmp.dir, 'work-1/run/outputs/lora-out/adapter_model.safetensors')].map((f) => run('sha256sum', [f])));
    expect(a!.stdout.split(' ')[0]).toBe(b!.stdout.split(' ')[0]);
    expect(JSON.parse(await readFile(join(s.dir, 'aibom.json'), 'utf8'))._type).toBe('https://aicert.dev/aibom/v1');
    expect(s.left).toEqual([]);
    expect(s.fake.requests.some((r) => r.method === 'DELETE')).toBe(true);
  });

  it('ARM answers 429, then 500, then Failed provisioning: exit 3, nothing left', async () => {
    const s = await scenario({
      arm: (f) => {
        f.inject({ method: 'PUT', type: 'virtualNetworks', status: 429, retryAfter: 0 });
        f.inject({ method: 'PUT', type: 'publicIPAddresses', status: 500 });
        f.failProvisioning('virtualMachines');
      },
    });
    expect(s.result.exit).toBe(3);
    expect(s.result.error).toMatch(/Failed|AllocationFailed/);
    expect(s.fake.requests.filter((r) => r.status === 429 || r.status === 500)).toHaveLength(2);
    expect(s.left).toEqual([]);
  });

  it('the runner dies mid-training: exit 3, nothing left', async () => {
    let killed = false;
    const s = await scenario({
      env: { TINY_TRAINER_STEPS: '20', TINY_TRAINER_STEP_MS: '150' },
      onLog: (t, r) => {
        if (!killed && /step 2\//.test(t)) {
          killed = true;
          process.kill(r.pid, 'SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect(s.result.exit).toBe(3);
    expect(s.result.error).toMatch(/ECONNREFUSED|unreachable|attestation/i);
    expect(s.left).toEqual([]);
  });

  it('the log stream drops: it is resumed from the last byte and the run verifies', async () => {
    let proxy: Awaited<ReturnType<typeof tcpProxy>> | undefined;
    let dropped = false;
    const s = await scenario({
      env: { TINY_TRAINER_STEPS: '6', TINY_TRAINER_STEP_MS: '150' },
      front: async (r) => ((proxy = await tcpProxy(Number(new URL(r.url).port))), cleanups.push(() => proxy!.close()), proxy.port),
      onLog: (t) => {
        if (!dropped && /step 2\//.test(t)) {
          dropped = true;
          proxy!.dropAll();
        }
      },
    });
    expect(dropped).toBe(true);
    expect(s.lines.some((l) => /log stream dropped/.test(l))).toBe(true);
    expect(s.result.exit).toBe(0);
    expect(s.logText.match(/step 1\/6/g)).toHaveLength(1);
    expect(s.logText).toMatch(/step 6\/6/);
    expect(s.left).toEqual([]);
  });

  it('the blob upload is interrupted twice (retried, verified) or for good (exit 3); nothing left', async () => {
    const flaky = await tcpProxy(azurite.port);
    cleanups.push(() => flaky.close());
    const storageFor = (id: string) => ({ storageUrl: `http://127.0.0.1:${flaky.port}/devstoreaccount1/${id}` });
    flaky.cutUploads(8192, 2);
    const a = await scenario({ flow: storageFor('flaky') });
    expect(flaky.cuts).toBe(2);
    expect(a.result.exit).toBe(0);
    flaky.cutUploads(8192, Infinity);
    const b = await scenario({ flow: { ...storageFor('broken'), upload: { retry: { attempts: 3, base_delay_ms: 20 }, jobAttempts: 2, pollMs: 50 } } });
    expect(b.result.exit).toBe(3);
    expect(b.result.error).toMatch(/storage-upload.*upload failed/);
    expect(a.left).toEqual([]);
    // The VM holds the only copy of the outputs: kept, and 'aicert down' deletes it on request.
    expect(b.result.kept).toMatch(/KEPT: it holds the only copy of 3 outputs/);
    expect(b.left.length).toBeGreaterThan(0);
    const rep = await downRun(b.result.runId!, { home: join(tmp.dir, 'home'), arm: new ArmClient({ endpoint: b.fake.url, credential: b.fake.credential, fetch: b.fake.fetch, minPollIntervalMs: 5 }) });
    expect(rep.failed).toEqual([]);
    expect(b.fake.resources()).toEqual([]);
  });

  it('a replayed /aTLS answer from an earlier run (with its leaked TLS key): exit 1 before any config is sent', async () => {
    const earlier = await scenario();
    const key = await readFile(join(tmp.dir, `work-${n}/tls.key`), 'utf8'), cert = await readFile(join(tmp.dir, `work-${n}/tls.pem`), 'utf8');
    const recorded = await new Promise<string>((res, rej) => {
      // what an eavesdropper kept: the earlier runner's /aTLS answer (for the earlier launcher's nonce)
      import('node:https').then(({ request }) => request(`${earlier.runner.url}/aTLS?nonce=${'ab'.repeat(32)}`, { rejectUnauthorized: false }, (r) => {
        let t = '';
        r.setEncoding('utf8').on('data', (d) => (t += d)).on('end', () => res(t));
      }).on('error', rej).end());
    });
    let evil: Awaited<ReturnType<typeof impostor>> | undefined;
    const s = await scenario({
      front: async (r) => {
        evil = await impostor({ key, cert }, r.url, async (req) => (req.url?.startsWith('/aTLS') ? { status: 200, body: recorded } : undefined));
        cleanups.push(() => evil!.close());
        return evil.port;
      },
    });
    expect(s.result.exit).toBe(1);
    expect(s.result.error).toMatch(/^NONCE_MISMATCH: the quote is not bound to this nonce/);
    expect(evil!.seen.some((p) => p.startsWith('POST'))).toBe(false);
    expect(s.left).toEqual([]);
  });

  it('a relay with the runner\'s TLS key that would swap in an earlier AIBOM: stopped at aTLS by the channel binding, exit 1, torn down', async () => {
    const oldAibom = await readFile(join(tmp.dir, 'out-1/aibom.json'), 'utf8');
    let evil: Awaited<ReturnType<typeof impostor>> | undefined;
    const s = await scenario({
      // the attacker holds this runner's TLS key, relays everything but swaps the AIBOM
      front: async (r) => {
        const dir = join(tmp.dir, `work-${n}`);
        evil = await impostor({ key: await readFile(join(dir, 'tls.key'), 'utf8'), cert: await readFile(join(dir, 'tls.pem'), 'utf8') }, r.url, async (req) =>
          /^\/attestation\?nonce=/.test(req.url ?? '') ? { status: 200, body: oldAibom } : undefined,
        );
        cleanups.push(() => evil!.close());
        return evil.port;
      },
    });
    expect(s.result.exit).toBe(1);
    // The relay terminates TLS itself, so the runner's quote covers another connection's exporter: refused before
    // any config, and the swapped AIBOM is never fetched.
    expect(s.result.error).toMatch(/^NONCE_MISMATCH: .*relayed/);
    expect(s.result.aibom).toBeUndefined();
    expect(evil!.seen.some((p) => p.startsWith('POST') || p.startsWith('GET /attestation'))).toBe(false);
    expect(s.left).toEqual([]);
  });

  it('a runner whose TLS key is not the one in the quote (relaying impostor): exit 1 before any config', async () => {
    const { stdout: key } = await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    await writeFile(join(tmp.dir, 'mitm.key'), key);
    const { stdout: cert } = await run('openssl', ['req', '-x509', '-key', join(tmp.dir, 'mitm.key'), '-subj', '/CN=aicert runner', '-days', '1']);
    let evil: Awaited<ReturnType<typeof impostor>> | undefined;
    const s = await scenario({
      front: async (r) => ((evil = await impostor({ key, cert }, r.url, async () => undefined)), cleanups.push(() => evil!.close()), evil.port),
    });
    expect(s.result.exit).toBe(1);
    expect(s.result.error).toMatch(/TLS_CERT_MISMATCH/);
    expect(evil!.seen).toEqual([expect.stringMatching(/^GET \/aTLS\?nonce=[0-9a-f]{64}$/)]);
    expect(s.left).toEqual([]);
  });

  it('Ctrl-C during training: SIGINT aborts the flow, the VM is torn down, exit 3', async () => {
    const emitter = new EventEmitter();
    let sent = false;
    const s = await scenario({
      env: { TINY_TRAINER_STEPS: '40', TINY_TRAINER_STEP_MS: '100' },
      flow: { signals: ['SIGINT'], emitter },
      onLog: (t) => {
        if (!sent && /step 2\//.test(t)) {
          sent = true;
          emitter.emit('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(s.result.exit).toBe(3);
    expect(s.result.error).toMatch(/interrupted by SIGINT/);
    expect(s.left).toEqual([]);
  });
});
