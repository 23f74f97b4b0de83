/**
 * The reference runner with `--hf-endpoint` on swtpm: the pinned base model and dataset come from the loopback Hub,
 * the AIBOM verifies and names that commit; a Hub that lies about a file's bytes fails the run before training, with
 * no attestation served.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAibom } from '../src/aibom/verify.js';
import { DATASET, MODEL, makeCa, makeMirror, provisionedSwtpm, sha256hex, spawnRunner, tempDir, type TestCa, callRunner } from './helpers/runner-rig.js';
import { startFakeHub, type FakeHub, type FakeHubLies, type FakeRepo } from './helpers/fake-hub.js';
import { swtpmAvailable, type Swtpm } from './helpers/swtpm.js';

const call = callRunner;

describe.skipIf(!swtpmAvailable())('runner with the Hub fetcher', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  const tpms: Swtpm[] = [];
  let configYaml: string;
  let repos: FakeRepo[];
  const hubs: FakeHub[] = [];

  beforeAll(async () => {
    tmp = await tempDir('aicert-hub-runner-');
    ca = await makeCa(join(tmp.dir, 'ca'));
    // the same inputs as the mirror the other runner tests use, served by the loopback Hub instead
    const m = await makeMirror(join(tmp.dir, 'mirror'));
    configYaml = m.configYaml;
    const md = join(m.mirror, MODEL.repo, MODEL.revision), dd = join(m.mirror, 'datasets', DATASET.repo, DATASET.revision);
    repos = [
      { kind: 'model', repo: MODEL.repo, commit: MODEL.revision, files: [
        { path: 'config.json', bytes: await readFile(join(md, 'config.json')) },
        { path: 'model.safetensors', bytes: await readFile(join(md, 'model.safetensors')), lfs: true },
      ] },
      { kind: 'dataset', repo: DATASET.repo, commit: DATASET.revision, files: [{ path: DATASET.file, bytes: await readFile(join(dd, DATASET.file)) }] },
    ];
  }, 120_000);
  afterAll(async () => {
    for (const h of hubs) await h.close();
    for (const t of tpms) await t.stop();
    await tmp?.rm();
  });

  const runOnce = async (name: string, lies?: FakeHubLies) => {
    const hub = await startFakeHub({ repos, lies });
    hubs.push(hub);
    // a fresh TPM per run: each run measures into PCRs from reset
    const sw = await provisionedSwtpm(ca);
    tpms.push(sw);
    const runner = await spawnRunner({ tcti: sw.tcti, mirror: '', hfEndpoint: hub.url, workDir: join(tmp.dir, name), args: ['--cert-chain', join(ca.dir, 'intermediate.pem')] });
    try {
      expect((await call(`${runner.url}/axolotl/configuration`, 'POST', configYaml)).status).toBe(200);
      expect((await call(`${runner.url}/finetune`, 'POST')).status).toBe(202);
      const log = (await call(`${runner.url}/build/status`)).text;
      const nonce = sha256hex(`nonce ${name}`);
      return { hub, log, nonce, att: await call(`${runner.url}/attestation?nonce=${nonce}`) };
    } finally {
      await runner.stop();
    }
  };

  it('fetches the pinned commits from the Hub; the AIBOM verifies and names them', async () => {
    const { hub, log, att, nonce } = await runOnce('honest');
    expect(log, log).toMatch(/status: done/);
    expect(att.status).toBe(200);
    const r = await verifyAibom(att.text, { trustAnchors: [ca.rootPem], allowUncheckedPlatform: true, nonce });
    expect(r.error).toBeUndefined();
    expect(r.valid).toBe(true);
    expect(r.claims.baseModel).toMatchObject({ repo: expect.stringContaining(MODEL.repo), revision: MODEL.revision });
    expect(r.claims.datasets?.[0]).toMatchObject({ revision: DATASET.revision });
    expect(hub.requests.some((q) => q.url.startsWith(`/${MODEL.repo}/resolve/${MODEL.revision}/model.safetensors`))).toBe(true);
  }, 180_000);

  it('a Hub whose LFS bytes differ from the oid fails the run before training; no attestation', async () => {
    const lies: FakeHubLies = { serve: (p, b) => (p === 'model.safetensors' ? b.map((x) => x ^ 1) : b) };
    const { log, att } = await runOnce('lying', lies);
    expect(log).toMatch(/status: failed: HUB_CONTENT_MISMATCH.*model\.safetensors/);
    expect(log).not.toMatch(/training/);
    expect(att.status).toBe(500);
  }, 180_000);
});
