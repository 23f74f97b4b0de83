/**
 * The runner under a hostile trainer (bwrap backend, swtpm): each attack of testvectors/runner/hostile-trainer.mjs
 * fails, or fails the run, and no verifiable AIBOM carries stolen bytes. Each attempt gets a fresh swtpm and runner.
 * Expected values come from the host side: sha256 of the key file read here, PCR values read with tpm2_pcrread,
 * connections counted by a listener of the test.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAibom } from '../src/aibom/verify.js';
import { makeCa, makeMirror, provisionedSwtpm, ROOT, sha256hex, spawnRunner, tempDir, type TestCa, callRunner } from './helpers/runner-rig.js';
import { swtpmAvailable } from './helpers/swtpm.js';

const run = promisify(execFile);
const HOSTILE = join(ROOT, 'testvectors/runner/hostile-trainer.mjs');
const bwrapWorks = (() => {
  try {
    return spawnSync('bwrap', ['--unshare-user', '--unshare-net', '--ro-bind', '/', '/', 'true']).status === 0;
  } catch {
    return false;
  }
})();
if (!bwrapWorks) console.warn('NOTICE: bwrap does not work here; the hostile-trainer suite is skipped (apt-get install bubblewrap).');
const call = callRunner;

interface Outcome {
  state: string;
  error?: string;
  log: string;
  aibom?: string;
  report?: Record<string, { ok: boolean; error?: string } | boolean>;
  workDir: string;
  keySha256: string;
  pcrs: string;
  verified?: Awaited<ReturnType<typeof verifyAibom>>;
}

describe.skipIf(!swtpmAvailable() || !bwrapWorks)('hostile trainer under bubblewrap', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  let mirror: string;
  let configYaml: string;
  let n = 0;

  beforeAll(async () => {
    tmp = await tempDir('aicert-hostile-');
    ca = await makeCa(join(tmp.dir, 'ca'));
    ({ mirror, configYaml } = await makeMirror(join(tmp.dir, 'mirror')));
  });
  afterAll(async () => tmp?.rm());

  /** One run with `hostile-trainer.mjs MODE ARG(workDir, tcti)`; always stops the runner and the swtpm. */
  async function attempt(mode: string, arg: (workDir: string, tcti: string) => string = () => '', transport: 'tcp' | 'unix' = 'tcp', extra: string[] = []): Promise<Outcome> {
    const sw = await provisionedSwtpm(ca, { transport });
    const workDir = join(tmp.dir, `work-${++n}`);
    try {
      const runner = await spawnRunner({ tcti: sw.tcti, mirror, workDir, args: ['--launch-nonce', sha256hex(`launch ${n}`), '--cert-chain', join(ca.dir, 'intermediate.pem'), ...extra], command: [process.execPath, HOSTILE, mode, arg(workDir, sw.tcti)] });
      try {
        expect((await call(`${runner.url}/axolotl/configuration`, 'POST', configYaml)).status).toBe(200);
        expect((await call(`${runner.url}/finetune`, 'POST')).status).toBe(202);
        const log = (await call(`${runner.url}/build/status`)).text;
        const st = JSON.parse((await call(`${runner.url}/status`)).text) as { state: string; error?: string };
        const nonce = sha256hex(`attestation ${n}`);
        const a = await call(`${runner.url}/attestation?nonce=${nonce}`);
        const reportPath = join(workDir, 'run/collected/report.json');
        const o: Outcome = {
          ...st, log, workDir,
          keySha256: sha256hex(await readFile(join(workDir, 'tls.key'))),
          pcrs: (await run('tpm2_pcrread', ['sha256:14,15,23'], { env: sw.env })).stdout,
          ...(existsSync(reportPath) ? { report: JSON.parse(await readFile(reportPath, 'utf8')) } : {}),
        };
        if (a.status === 200) {
          o.aibom = a.text;
          o.verified = await verifyAibom(a.text, { nonce, trustAnchors: [ca.rootPem], allowUncheckedPlatform: true });
        } else expect(a.status).toBe(500);
        return o;
      } finally {
        await runner.stop();
      }
    } finally {
      await sw.stop();
    }
  }

  /** No output of a verifiable AIBOM has the key's digest. */
  const noStolenKey = (o: Outcome) => {
    if (!o.verified?.valid) return;
    expect(o.verified.claims.outputs?.map((x) => x.sha256)).not.toContain(o.keySha256);
  };

  it('reading the TLS key: the runner\'s work folder is not in the sandbox', async () => {
    const o = await attempt('read-key', (w) => join(w, 'tls.key'));
    expect(o.report?.read).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(o.state).toBe('done');
    expect(o.verified?.error).toBeUndefined();
    expect(o.verified?.valid).toBe(true);
    noStolenKey(o);
    expect(o.verified?.claims.outputs?.map((x) => x.name)).toEqual(['model.bin', 'report.json']);
  });

  it('the TPM: no device node, the swtpm TCP port unreachable, tpm2-tools fail; PCRs 14/23 untouched', async () => {
    const o = await attempt('tpm', (_w, tcti) => tcti);
    const r = o.report!;
    expect(r['/dev/tpm0']).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(r['/dev/tpmrm0']).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(r.socket).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(r.pcrreset).toMatchObject({ ok: false });
    expect(r.pcrextend).toMatchObject({ ok: false });
    expect(o.pcrs).toMatch(/23 *: 0x0{64}/i);
    // The AIBOM verifies: PCR 14 replays exactly the runner's own events, launch event first.
    expect(o.verified?.valid).toBe(true);
    expect(JSON.parse(o.aibom!).evidence.appEventLog['14'][0]).toMatch(/^\{"event_type": "launch"/);
  });

  it('the TPM over a unix socket: the socket is not in the sandbox', async () => {
    const o = await attempt('tpm', (_w, tcti) => tcti, 'unix');
    expect(o.report!.socket).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(o.report!.pcrextend).toMatchObject({ ok: false });
    expect(o.verified?.valid).toBe(true);
  });

  it('a loopback listener of the host: the trainer has its own network namespace', async () => {
    let connections = 0;
    const srv = createServer((s) => (connections++, s.destroy()));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (srv.address() as import('node:net').AddressInfo).port;
      const o = await attempt('net', () => String(port));
      expect(o.report!.connect).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
      expect(connections).toBe(0);
      expect(o.verified?.valid).toBe(true);
    } finally {
      srv.close();
    }
  });

  it('a background process rewriting an output after the trainer exits: killed with the pid namespace; the copy is what is measured', async () => {
    const o = await attempt('background');
    expect(o.state).toBe('done');
    // Wait past the 1.5 s at which the left-behind process would have written.
    await new Promise((r) => setTimeout(r, 2500));
    expect(existsSync(join(o.workDir, 'run/outputs/late'))).toBe(false);
    const expected = createHash('sha256').update(Buffer.alloc(4096, 0x42)).digest('hex');
    expect(o.verified?.valid).toBe(true);
    expect(o.verified?.claims.outputs).toContainEqual({ name: 'model.bin', sha256: expected });
    expect(sha256hex(await readFile(join(o.workDir, 'run/collected/model.bin')))).toBe(expected);
    expect((await stat(join(o.workDir, 'run/collected'))).mode & 0o077).toBe(0);
  });

  it.each([
    ['symlink', (w: string) => join(w, 'tls.key'), /key\.pem is a symlink/],
    ['fifo', () => '', /pipe is a FIFO/],
    ['socket', () => '', /sock is a socket/],
  ])('a %s in the outputs fails the run, with no AIBOM', async (mode, arg, msg) => {
    const o = await attempt(mode, arg);
    expect(o.state).toBe('failed');
    expect(o.error).toMatch(msg);
    expect(o.log).toMatch(/status: failed/);
    expect(o.aibom).toBeUndefined();
  });

  it('--unconfined-training: the same theft succeeds, is measured, and verifyAibom refuses the AIBOM unless the policy allows it', async () => {
    const o = await attempt('read-key', (w) => join(w, 'tls.key'), 'tcp', ['--unconfined-training']);
    expect(o.report?.read).toMatchObject({ ok: true });
    expect(o.verified?.valid).toBe(false);
    expect(o.verified?.error?.code).toBe('UNCONFINED_TRAINING');
    expect(JSON.parse(o.aibom!).evidence.appEventLog['14'].some((e: string) => e.includes('"event_type": "training_sandbox"') && e.includes('"backend": "none"'))).toBe(true);
    const nonce = JSON.parse(o.aibom!).evidence.nonce as string;
    const allowed = await verifyAibom(o.aibom!, { nonce, trustAnchors: [ca.rootPem], allowUncheckedPlatform: true, policy: { allowUnconfinedTraining: true } });
    expect(allowed.valid).toBe(true);
    // What the caller accepted is visible: the stolen key is among the outputs.
    expect(allowed.claims.outputs?.map((x) => x.sha256)).toContain(o.keySha256);
  });

  it('a device node: mknod is refused inside the sandbox (no CAP_MKNOD), so the run has none to take', async () => {
    const o = await attempt('device');
    expect(o.report!.mknod).toMatchObject({ ok: false });
    expect(o.verified?.valid).toBe(true);
    expect(o.verified?.claims.outputs?.map((x) => x.name)).toEqual(['model.bin', 'report.json']);
  });
});
