/**
 * `aicert finetune` with outputs totalling 2 GiB, end to end on loopback: fake ARM, the reference runner on swtpm,
 * Azurite behind a TCP proxy that cuts the upload once in the middle. The runner's upload job fails at the cut (one
 * attempt per request, on purpose), the launcher starts it again, it resumes from the blocks Azurite already holds,
 * every output is confirmed (size and sha256) and verified, and only then is the VM deleted. The big output is a
 * sparse file (markers every 256 MiB), so making it costs no time; every copy is removed at the end.
 */
import { execFile } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFinetune } from '../../src/launcher/finetune.js';
import { parseLaunchUserData } from '../../src/launcher/provision.js';
import { azuriteAvailable, startAzurite, type Azurite } from '../helpers/azurite.js';
import { startFakeArm, type FakeArm } from '../helpers/fake-arm.js';
import { tcpProxy, type TcpProxy } from '../helpers/net-faults.js';
import { makeCa, makeMirror, provisionedSwtpm, spawnRunner, tempDir, TRAINER, type RunnerProcess, type TestCa } from '../helpers/runner-rig.js';
import { swtpmAvailable, type Swtpm } from '../helpers/swtpm.js';
import { writeFile } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { ArmClient } from '../../src/launcher/arm.js';
import { RunFile } from '../../src/launcher/state.js';
import { downRun } from '../../src/launcher/provision.js';

const run = promisify(execFile);
const GiB = 2 ** 30;
const AZURE = [
  'aicert:',
  '  azure:',
  '    subscription_id: 00000000-0000-4000-8000-000000000000',
  '    resource_group: aicert-test',
  '    location: westeurope',
  '    image_id: /subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/aicert-test/providers/Microsoft.Compute/galleries/g/images/runner/versions/1.0.0',
  '',
].join('\n');

describe.skipIf(!swtpmAvailable() || !azuriteAvailable())('aicert finetune with 2 GiB of outputs (upload cut once, resumed)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  let azurite: Azurite;
  let proxy: TcpProxy;
  let fake: FakeArm;
  let sw: Swtpm;
  let runner: RunnerProcess | undefined;
  let measurements: string;
  let containers: string;

  beforeAll(async () => {
    tmp = await tempDir('aicert-2g-');
    ca = await makeCa(join(tmp.dir, 'ca'));
    azurite = await startAzurite();
    proxy = await tcpProxy(azurite.port);
    fake = await startFakeArm({ publicIp: '127.0.0.1' });
    // Golden values from independent tools: boot PCRs 0-7 of a fresh provisioned swtpm, the trainer's sha256.
    const probe = await provisionedSwtpm(ca);
    const { stdout } = await run('tpm2_pcrread', ['sha256:0,1,2,3,4,5,6,7'], { env: probe.env }).finally(() => probe.stop());
    measurements = JSON.stringify({ measurements: Object.fromEntries([...stdout.matchAll(/^\s*(\d+)\s*:\s*0x([0-9A-F]{64})/gim)].map((x) => [x[1]!, x[2]!.toLowerCase()])) });
    const { stdout: sum } = await run('sha256sum', [TRAINER]);
    containers = JSON.stringify({ '@local/aicert-runner:test': `sha256:${sum.split(' ')[0]}` });
    sw = await provisionedSwtpm(ca);
  });
  afterAll(async () => {
    await runner?.stop();
    await sw?.stop();
    await fake?.close();
    await proxy?.close();
    await azurite?.stop();
    await tmp?.rm();
  });

  it('uploads, survives the cut, confirms, verifies, then tears down; nothing left', async () => {
    const m = await makeMirror(join(tmp.dir, 'mirror'));
    const config = join(tmp.dir, 'aicert.yaml');
    const full = 2 * GiB - 70_000;
    await writeFile(config, `${m.configYaml}tiny_trainer_full_bytes: ${full}\n${AZURE}`);
    const lines: string[] = [];
    let runnerLog = '';
    // The first connection that carries 300 MiB is cut: mid-way through the big file.
    proxy.cutUploads(300 << 20, 1);
    const work = join(tmp.dir, 'work');
    const t0 = Date.now();
    const r = await runFinetune({
      config,
      dir: join(tmp.dir, 'out'),
      storageUrl: `http://127.0.0.1:${proxy.port}/devstoreaccount1/big`,
      storageAuth: { connectionString: azurite.connectionString },
      trustAnchors: [ca.rootPem],
      measurements,
      containers,
      arm: { endpoint: fake.url, credential: fake.credential, fetch: fake.fetch, baseDelayMs: 5, maxDelayMs: 50, pollIntervalMs: 10, minPollIntervalMs: 5 },
      home: join(tmp.dir, 'home'),
      pollMs: 100,
      signals: [],
      log: (l) => lines.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${l}`),
      onLogText: (t) => (runnerLog += t),
      onProgress: () => undefined,
      upload: { parallel: 4, retry: { attempts: 1 }, jobAttempts: 3, pollMs: 200 },
      onProvisioned: async () => {
        const vm = fake.resources().find((x) => x.type.endsWith('virtualMachines'))!;
        const nonce = Buffer.from(parseLaunchUserData(vm.body.properties.userData).nonce).toString('hex');
        runner = await spawnRunner({ tcti: sw.tcti, mirror: m.mirror, workDir: work, env: { TINY_TRAINER_FULL_BYTES: String(full) }, args: ['--launch-nonce', nonce, '--cert-chain', join(ca.dir, 'intermediate.pem')] });
        return { port: Number(new URL(runner.url).port) };
      },
    });
    try {
      if (r.exit !== 0) console.error(lines.join('\n'), JSON.stringify(r.aibom?.checks.filter((c) => !c.ok)));
      expect(r.error).toBeUndefined();
      expect(r.exit).toBe(0);
      expect(r.aibom?.checks.find((c) => c.id === 'artifacts')?.ok).toBe(true);
      expect(proxy.cuts).toBe(1);
      // The launcher started the job again and it resumed: the bytes sent are the outputs once plus what the
      // cut lost (at most the 4 blocks in flight, 8 MiB each), not twice the outputs.
      expect(lines.some((l) => /upload job failed .*starting it again \(2\/3\), resuming/.test(l))).toBe(true);
      expect(lines.some((l) => /all 4 outputs confirmed in storage \(size and sha256\)/.test(l))).toBe(true);
      expect(proxy.bytesUp).toBeGreaterThan(full);
      expect(proxy.bytesUp).toBeLessThan(full + 4 * (8 << 20) + (4 << 20));
      // Both copies of the 2 GiB output hash the same (sha256sum).
      const [a, b] = await Promise.all([join(tmp.dir, 'out/outputs/full/model.bin'), join(work, 'run/outputs/full/model.bin')].map((f) => run('sha256sum', [f])));
      expect(a!.stdout.split(' ')[0]).toBe(b!.stdout.split(' ')[0]);
      expect((await stat(join(tmp.dir, 'out/outputs/full/model.bin'))).size).toBe(full);
      // Teardown came after the confirmation, and left nothing.
      const confirmed = lines.findIndex((l) => /confirmed in storage/.test(l));
      const deleting = lines.findIndex((l) => /deleting cloud resources/.test(l));
      expect(confirmed).toBeGreaterThanOrEqual(0);
      expect(deleting).toBeGreaterThan(confirmed);
      expect(fake.resources()).toEqual([]);
    } finally {
      // 2 GiB per copy: remove them now rather than at the end of the file.
      await rm(join(tmp.dir, 'out'), { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    }
  }, 600_000);

  /** A small run whose upload is slowed (parallel 1, 1 MiB outputs in 64 MiB) so that signals land mid-upload. */
  async function interrupted(signals: number) {
    const m = await makeMirror(join(tmp.dir, `mirror-i${signals}`));
    const config = join(tmp.dir, `int-${signals}.yaml`);
    await writeFile(config, `${m.configYaml}tiny_trainer_full_bytes: ${192 << 20}\n${AZURE}`);
    const tpm = await provisionedSwtpm(ca);
    const emitter = new EventEmitter();
    const lines: string[] = [];
    let sent = 0;
    let proc: RunnerProcess | undefined;
    try {
      const r = await runFinetune({
        config,
        dir: join(tmp.dir, `out-i${signals}`),
        storageUrl: `${azurite.accountUrl}/int${signals}`,
        storageAuth: { connectionString: azurite.connectionString },
        trustAnchors: [ca.rootPem],
        measurements,
        containers,
        arm: { endpoint: fake.url, credential: fake.credential, fetch: fake.fetch, baseDelayMs: 5, maxDelayMs: 50, pollIntervalMs: 10, minPollIntervalMs: 5 },
        home: join(tmp.dir, 'home'),
        pollMs: 100,
        signals: ['SIGINT'],
        emitter,
        log: (l) => lines.push(l),
        onLogText: () => undefined,
        // The first progress report during the upload is where Ctrl-C is pressed (once or twice).
        onProgress: (done, total) => {
          if (sent < signals && done > 0 && done < total) for (; sent < signals; sent++) emitter.emit('SIGINT');
        },
        upload: { parallel: 1, pollMs: 50 },
        onProvisioned: async () => {
          const vm = fake.resources().find((x) => x.type.endsWith('virtualMachines'))!;
          const nonce = Buffer.from(parseLaunchUserData(vm.body.properties.userData).nonce).toString('hex');
          proc = await spawnRunner({ tcti: tpm.tcti, mirror: m.mirror, workDir: join(tmp.dir, `work-i${signals}`), env: { TINY_TRAINER_FULL_BYTES: String(192 << 20) }, args: ['--launch-nonce', nonce, '--cert-chain', join(ca.dir, 'intermediate.pem')] });
          return { port: Number(new URL(proc.url).port) };
        },
      });
      return { r, lines, sent };
    } finally {
      await proc?.stop();
      await tpm.stop();
    }
  }

  it('Ctrl-C during the upload says it finishes the upload first, does so, then deletes the VM', async () => {
    const { r, lines, sent } = await interrupted(1);
    expect(sent).toBe(1);
    expect(lines.find((l) => l.startsWith('SIGINT: '))).toMatch(/^SIGINT: the VM holds the only copy of 4 outputs, .*: finishing the upload, then deleting the VM\. Press Ctrl-C again to stop now and KEEP the VM/);
    expect(lines.some((l) => /all 4 outputs confirmed in storage/.test(l))).toBe(true);
    expect(r.exit).toBe(3);
    expect(r.error).toMatch(/interrupted by SIGINT/);
    expect(r.kept).toBeUndefined();
    expect(fake.resources()).toEqual([]);
  }, 300_000);

  it('Ctrl-C twice during the upload stops at once and keeps the VM; aicert down deletes it and says what is lost', async () => {
    const { r, lines } = await interrupted(2);
    expect(lines.some((l) => /^SIGINT again: stopping now/.test(l))).toBe(true);
    expect(r.exit).toBe(3);
    expect(r.kept).toMatch(/^the VM is KEPT: it holds the only copy of 4 outputs/);
    expect(fake.resources().some((x) => x.type.endsWith('virtualMachines'))).toBe(true);
    expect((await RunFile.open(r.runId!, join(tmp.dir, 'home'))).state.status).toBe('kept');
    const said: string[] = [];
    const rep = await downRun(r.runId!, { home: join(tmp.dir, 'home'), log: (l) => said.push(l), arm: new ArmClient({ endpoint: fake.url, credential: fake.credential, fetch: fake.fetch, minPollIntervalMs: 5 }) });
    expect(rep.failed).toEqual([]);
    expect(said[0]).toMatch(/holds outputs not confirmed in storage; deleting its VM LOSES 4 outputs, .*full\/model\.bin/);
    expect(fake.resources()).toEqual([]);
  }, 300_000);
});
