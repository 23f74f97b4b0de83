/**
 * attestRunner (aTLS client) and `aicert finetune --runner` against reference runners on swtpm: a nonce-capable
 * runner, and one started with --original-protocol (ignores nonces like the original server). The launcher CLI runs
 * as its own process for the exit-code and Ctrl-C checks.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestRunner } from '../src/launcher/atls.js';
import { makeCa, makeMirror, provisionedSwtpm, ROOT, sha256hex, spawnRunner, tempDir, type RunnerProcess, type TestCa } from './helpers/runner-rig.js';
import { swtpmAvailable, type Swtpm } from './helpers/swtpm.js';

/** GET with a given agent; resolves the status or rejects with the TLS error. */
const get = (url: string, agent: import('node:https').Agent) =>
  new Promise<number>((res, rej) => request(url, { agent }, (r) => (r.resume(), res(r.statusCode ?? 0))).on('error', rej).end());

describe.skipIf(!swtpmAvailable())('attested TLS against the reference runner', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  const tpms: Swtpm[] = [];
  const runners: RunnerProcess[] = [];
  let modern: RunnerProcess, original: RunnerProcess;
  let cli: string;
  let config: string;
  const launch = sha256hex('launch');

  beforeAll(async () => {
    tmp = await tempDir('aicert-atls-');
    ca = await makeCa(join(tmp.dir, 'ca'));
    const m = await makeMirror(join(tmp.dir, 'mirror'));
    config = join(tmp.dir, 'aicert.yaml');
    await writeFile(config, m.configYaml);
    const start = async (args: string[], env: Record<string, string> = {}) => {
      const sw = await provisionedSwtpm(ca);
      tpms.push(sw);
      const r = await spawnRunner({ tcti: sw.tcti, mirror: m.mirror, workDir: join(tmp.dir, `w${tpms.length}`), env, args: ['--cert-chain', join(ca.dir, 'intermediate.pem'), ...args] });
      runners.push(r);
      return r;
    };
    [modern, original] = await Promise.all([start(['--launch-nonce', launch], { TINY_TRAINER_STEPS: '100', TINY_TRAINER_STEP_MS: '100' }), start(['--original-protocol'])]);
    cli = join(ROOT, `node_modules/.cache/aicert-cli-${process.pid}/aicert.mjs`);
    // The CLI's main() in one ES module (bin/aicert.ts is a launcher that needs the per-command bundles beside it).
    const entry = "import { main } from './src/cli/main.ts'; main(process.argv.slice(2)).then((c) => (process.exitCode = c));";
    await build({ stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' }, outfile: cli, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await Promise.all(tpms.map((t) => t.stop()));
    await tmp?.rm();
  });

  it('verifies the nonce-bound quote, the launch nonce and pins exactly that certificate', async () => {
    const s = await attestRunner(modern.url, { trustAnchors: [ca.rootPem], launchNonce: Buffer.from(launch, 'hex') });
    expect(s.replayable).toBe(false);
    expect(s.checks.filter((c) => c.ok === false)).toEqual([]);
    expect(s.checks.find((c) => c.id === 'atls.binding')?.ok).toBe(true);
    expect(await get(`${modern.url}/status`, s.agent)).toBe(200);
    // the pinned agent refuses another runner's (also self-signed, also "aicert runner") certificate
    await expect(get(`${original.url}/status`, s.agent)).rejects.toThrow();
    s.agent.destroy();
  });

  it('fails closed: wrong launch nonce, untrusted AK root, boot PCR outside the policy', async () => {
    await expect(attestRunner(modern.url, { trustAnchors: [ca.rootPem], launchNonce: Buffer.alloc(32, 1) })).rejects.toMatchObject({ code: 'LAUNCH_NONCE_MISMATCH' });
    await expect(attestRunner(modern.url, {})).rejects.toMatchObject({ code: expect.stringMatching(/^CERT_/) });
    const policy = { pcrs: { sha256: { '0': [sha256hex('another firmware')] } } };
    await expect(attestRunner(modern.url, { trustAnchors: [ca.rootPem], policy })).rejects.toMatchObject({ code: 'PCR_POLICY_MISMATCH' });
  });

  it('channel binding: a relay holding the runner\'s own TLS key and certificate cannot reuse the evidence', async () => {
    // The relay terminates TLS with the runner's key (read from its work folder, as a thief would) and forwards.
    const served = await new Promise<Buffer>((res, rej) => request(`${modern.url}/status`, { rejectUnauthorized: false }, (x) => (x.resume(), res((x.socket as import('node:tls').TLSSocket).getPeerCertificate().raw))).on('error', rej).end());
    let key = '', cert = '';
    for (const w of ['w1', 'w2']) {
      const pem = await readFile(join(tmp.dir, w, 'tls.pem'), 'utf8');
      if (new X509Certificate(pem).raw.equals(served)) [key, cert] = [await readFile(join(tmp.dir, w, 'tls.key'), 'utf8'), pem];
    }
    expect(cert).not.toBe('');
    const up = new URL(modern.url);
    const relay = createServer({ key, cert }, (req, res) => {
      request({ host: up.hostname, port: up.port, path: req.url, method: req.method, rejectUnauthorized: false }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      }).end();
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `https://127.0.0.1:${(relay.address() as import('node:net').AddressInfo).port}`;
      // Same certificate, same key, genuine quote: only the exporter of the relayed connection differs.
      await expect(attestRunner(url, { trustAnchors: [ca.rootPem], launchNonce: Buffer.from(launch, 'hex') })).rejects.toMatchObject({ code: 'NONCE_MISMATCH' });
    } finally {
      relay.closeAllConnections();
      await new Promise((r) => relay.close(r));
    }
  });

  it('an original-protocol runner is refused unless replayable attestation is allowed', async () => {
    await expect(attestRunner(original.url, { trustAnchors: [ca.rootPem] })).rejects.toMatchObject({ code: 'REPLAYABLE_ATTESTATION' });
    const s = await attestRunner(original.url, { trustAnchors: [ca.rootPem], allowReplayable: true });
    expect(s.replayable).toBe(true);
    s.agent.destroy();
  });

  /** Runs the CLI as a process; resolves exit code, stdout, stderr. */
  const aicert = (args: string[], onStderr?: (all: string, child: ReturnType<typeof spawn>) => void) =>
    new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => ((err += d), onStderr?.(err, child)));
      child.once('exit', (code) => res({ code, out, err }));
    });

  it('aicert finetune --runner: exit 1 before any config for an original runner, exit 2 for bad usage', async () => {
    // Without golden boot values nothing is sent unless the user accepts an unattested platform.
    const un = await aicert(['finetune', '--config', config, '--runner', modern.url, '--trust-root', join(ca.dir, 'root.pem'), '--dir', join(tmp.dir, 'o0')]);
    expect(un.code).toBe(1);
    expect(un.err).toMatch(/PLATFORM_UNATTESTED.*--allow-unattested-platform/s);
    const r = await aicert(['finetune', '--config', config, '--runner', original.url, '--trust-root', join(ca.dir, 'root.pem'), '--dir', join(tmp.dir, 'o1'), '--allow-unattested-platform']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/REPLAYABLE_ATTESTATION.*--allow-replayable-attestation/s);
    const st = await new Promise<string>((res) => request(`${original.url}/status`, { rejectUnauthorized: false }, (x) => { let t = ''; x.setEncoding('utf8').on('data', (d) => (t += d)).on('end', () => res(t)); }).end());
    expect(JSON.parse(st).state).toBe('idle');
    expect((await aicert(['finetune', '--config', config, '--bogus'])).code).toBe(2);
    await writeFile(join(tmp.dir, 'bad.yaml'), 'base_model: org/model\ndatasets:\n  - path: org/data\n    name: x.jsonl\n');
    const bad = await aicert(['finetune', '--config', join(tmp.dir, 'bad.yaml'), '--runner', modern.url]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.yaml:1.*not pinned/);
  });

  it('Ctrl-C (SIGINT) to the launcher process during training: exit 3 after cleanup', async () => {
    let sent = false;
    const r = await aicert(['finetune', '--config', config, '--runner', modern.url, '--trust-root', join(ca.dir, 'root.pem'), '--dir', join(tmp.dir, 'o2'), '--allow-unattested-platform'], (err, child) => {
      if (!sent && /step 3\//.test(err)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/interrupted by SIGINT/);
  });
});
