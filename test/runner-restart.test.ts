/**
 * `aicert runner` as an operator runs it: --help, usage errors, SIGTERM stop, and a restart on the same TPM and work
 * folder that serves again (same TLS certificate in PCR 15, launch event adopted) instead of wedging until a reboot.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestRunner } from '../src/launcher/atls.js';
import { makeCa, makeMirror, provisionedSwtpm, runnerBundle, sha256hex, spawnRunner, tempDir, type TestCa } from './helpers/runner-rig.js';
import { swtpmAvailable, type Swtpm } from './helpers/swtpm.js';

describe('aicert runner command line', () => {
  it('--help documents the contract options; usage errors exit 2', async () => {
    const bundle = await runnerBundle();
    const h = spawnSync(process.execPath, [bundle, '--help'], { encoding: 'utf8' });
    expect(h.status).toBe(0);
    for (const f of ['--tcti', '--work-dir', '--mirror', '--hf-endpoint', '--sandbox bwrap|podman', '--host', '--port', '--launch-nonce', '--cert-chain', '--unconfined-training', '--boot-log', '--ak-handle'])
      expect(h.stdout).toContain(f);
    const bad = spawnSync(process.execPath, [bundle, '--work-dir', '/tmp/x', '--mirror', '/tmp', '--sandbox', 'podman', '--', 'true'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--trainer-image/);
  });
});

describe.skipIf(!swtpmAvailable())('runner restart on the same TPM', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  let sw: Swtpm;
  let mirror: string;
  const nonce = sha256hex('restart launch');

  beforeAll(async () => {
    tmp = await tempDir('aicert-restart-');
    ca = await makeCa(join(tmp.dir, 'ca'));
    sw = await provisionedSwtpm(ca);
    ({ mirror } = await makeMirror(join(tmp.dir, 'mirror')));
  });
  afterAll(async () => {
    await sw?.stop();
    await tmp?.rm();
  });

  it('stops on SIGTERM and serves again after a restart; another launch nonce is refused', async () => {
    const args = ['--launch-nonce', nonce, '--cert-chain', join(ca.dir, 'intermediate.pem')];
    const first = await spawnRunner({ tcti: sw.tcti, mirror, workDir: join(tmp.dir, 'work'), args });
    const s1 = await attestRunner(first.url, { trustAnchors: [ca.rootPem], launchNonce: Buffer.from(nonce, 'hex') });
    s1.agent.destroy();
    await first.stop();
    expect(await first.exited).toBe(0);
    const second = await spawnRunner({ tcti: sw.tcti, mirror, workDir: join(tmp.dir, 'work'), args });
    try {
      const s2 = await attestRunner(second.url, { trustAnchors: [ca.rootPem], launchNonce: Buffer.from(nonce, 'hex') });
      expect(Buffer.from(s2.certificateDer)).toEqual(Buffer.from(s1.certificateDer));
      s2.agent.destroy();
    } finally {
      await second.stop();
    }
    await expect(spawnRunner({ tcti: sw.tcti, mirror, workDir: join(tmp.dir, 'work'), args: ['--launch-nonce', sha256hex('other'), ...args.slice(2)] })).rejects.toThrow(/PCR 14 already holds other measurements/);
  });
});
