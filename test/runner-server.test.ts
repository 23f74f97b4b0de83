/**
 * The reference runner as a process on swtpm, driven over HTTPS like the launcher would. Expected values come from
 * tpm2_checkquote and openssl (quote signature, qualifying data, SPKI), and from sha256 arithmetic in the test.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAibom } from '../src/aibom/verify.js';
import { makeCa, makeMirror, provisionedSwtpm, sha256hex, spawnRunner, tempDir, type RunnerProcess, type TestCa } from './helpers/runner-rig.js';
import { swtpmAvailable, type Swtpm } from './helpers/swtpm.js';

const run = promisify(execFile);
const insecure = new Agent({ rejectUnauthorized: false });

/** One HTTPS request to the runner (TLS verification off: this test checks the binding itself). */
function call(url: string, method = 'GET', body?: string, ekmContext?: Buffer): Promise<{ status: number; text: string; cert: Buffer; ekm?: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: insecure }, (res) => {
      const sock = res.socket as import('node:tls').TLSSocket;
      const cert = sock.getPeerCertificate().raw;
      // The client's own view of the TLS exporter (RFC 8446 §7.5) of this connection.
      const ekm = ekmContext ? sock.exportKeyingMaterial(32, 'EXPORTER-aicert-atls-v2', ekmContext) : undefined;
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text, cert, ...(ekm ? { ekm } : {}) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const b64 = (o: { base64: string }) => Buffer.from(o.base64, 'base64');
const extend0 = (d: string) => sha256hex(Buffer.concat([Buffer.alloc(32), Buffer.from(d, 'hex')]));

describe.skipIf(!swtpmAvailable())('reference runner on swtpm', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  let sw: Swtpm;
  let runner: RunnerProcess;
  let configYaml: string;
  const launchNonce = sha256hex('launch nonce of this test');

  beforeAll(async () => {
    tmp = await tempDir('aicert-runner-test-');
    ca = await makeCa(join(tmp.dir, 'ca'));
    sw = await provisionedSwtpm(ca);
    const m = await makeMirror(join(tmp.dir, 'mirror'));
    configYaml = m.configYaml;
    runner = await spawnRunner({ tcti: sw.tcti, mirror: m.mirror, workDir: join(tmp.dir, 'work'), args: ['--launch-nonce', launchNonce, '--cert-chain', join(ca.dir, 'intermediate.pem')] });
  });
  afterAll(async () => {
    await runner?.stop();
    await sw?.stop();
    await tmp?.rm();
  });

  it('answers /aTLS?nonce= with a quote bound to its TLS key, tpm2_checkquote agrees', async () => {
    const nonce = sha256hex('client nonce 1');
    const r = await call(`${runner.url}/aTLS?nonce=${nonce}`, 'GET', undefined, Buffer.from(nonce, 'hex'));
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.text);
    // openssl: SPKI DER of the certificate we were served
    const d = join(tmp.dir, 'atls');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'peer.der'), r.cert);
    const { stdout: pub } = await run('openssl', ['x509', '-inform', 'DER', '-in', join(d, 'peer.der'), '-pubkey', '-noout']);
    await writeFile(join(d, 'peer.pub.pem'), pub);
    const { stdout: spki } = await run('openssl', ['pkey', '-pubin', '-in', join(d, 'peer.pub.pem'), '-outform', 'DER'], { encoding: 'buffer' });
    const qual = sha256hex(Buffer.concat([Buffer.from(sha256hex(spki), 'hex'), Buffer.from(nonce, 'hex'), r.ekm!]));
    // tpm2_checkquote with the AK key from the AK certificate (NV 0x01C101D0, first in cert_chain)
    const q = doc.remote_attestation.quote;
    await writeFile(join(d, 'ak.der'), b64(doc.remote_attestation.cert_chain[0]));
    const { stdout: akPub } = await run('openssl', ['x509', '-inform', 'DER', '-in', join(d, 'ak.der'), '-pubkey', '-noout']);
    await writeFile(join(d, 'ak.pem'), akPub);
    for (const [k, v] of Object.entries({ msg: q.message, sig: q.signature, pcr: q.pcr })) await writeFile(join(d, k), b64(v));
    const args = ['-u', join(d, 'ak.pem'), '-m', join(d, 'msg'), '-s', join(d, 'sig'), '-f', join(d, 'pcr'), '-g', 'sha256'];
    const ok = await run('tpm2_checkquote', [...args, '-q', qual]);
    // PCR 15 = extend(0, sha256(PEM)); PCR 14 = extend(0, sha256(launch event)), the event written out by hand here;
    // PCR 23 stays zero (printed by checkquote as YAML).
    const launchEv = `{"event_type": "launch", "content": {"nonce_sha256": "${sha256hex(Buffer.from(launchNonce, 'hex'))}"}}`;
    expect(ok.stdout).toMatch(new RegExp(`15 *: 0x${extend0(sha256hex(doc.ca_cert))}`, 'i'));
    expect(ok.stdout).toMatch(new RegExp(`14 *: 0x${extend0(sha256hex(launchEv))}`, 'i'));
    expect(ok.stdout).toMatch(new RegExp(`23 *: 0x${'0'.repeat(64)}`, 'i'));
    await expect(run('tpm2_checkquote', [...args, '-q', sha256hex('another nonce')])).rejects.toThrow();
    // Without the exporter (a relay's other connection) the same quote does not check.
    const unbound = sha256hex(Buffer.concat([Buffer.from(sha256hex(spki), 'hex'), Buffer.from(nonce, 'hex')]));
    await expect(run('tpm2_checkquote', [...args, '-q', unbound])).rejects.toThrow();
    expect(doc.aicert).toMatchObject({ protocol: 'https://aicert.dev/runner/v1', nonce, qualification: qual, binding: 'tls-exporter', launch: { pcr: 14, extended: true } });
  });

  it('refuses a malformed nonce and unknown routes', async () => {
    expect((await call(`${runner.url}/aTLS?nonce=zz`)).status).toBe(400);
    expect((await call(`${runner.url}/nope`)).status).toBe(404);
    expect((await call(`${runner.url}/attestation`)).status).toBe(409);
    expect((await call(`${runner.url}/axolotl/configuration`, 'POST', 'base_model: org/x\n')).status).toBe(400);
  });

  it('runs a fine-tune whose AIBOM and attestation.json verify, weights included', async () => {
    expect((await call(`${runner.url}/axolotl/configuration`, 'POST', configYaml)).status).toBe(200);
    expect((await call(`${runner.url}/finetune`, 'POST')).status).toBe(202);
    const log = await call(`${runner.url}/build/status`);
    expect(log.text).toMatch(/step 4\/4/);
    expect(log.text).toMatch(/status: done/);
    const nonce = sha256hex('attestation nonce');
    const v1 = await call(`${runner.url}/attestation?nonce=${nonce}`);
    expect(v1.status).toBe(200);
    const legacy = await call(`${runner.url}/attestation`);
    // The runner's own copy of the outputs (what it measured and uploads).
    const outDir = join(tmp.dir, 'work/run/collected');
    const { verifyArtifacts } = await import('../src/node/artifacts.js');
    const artifacts = async (expected: { name: string; sha256: string }[]) => {
      const r = await verifyArtifacts(expected.map((e) => ({ name: e.name, digest: { sha256: e.sha256 } })), [outDir]);
      return { ok: r.ok, matched: r.matched.map((m) => m.name), missing: r.missing, extra: r.extra.map((x) => x.name), mismatched: r.mismatched.map((m) => m.name) };
    };
    const opts = { trustAnchors: [ca.rootPem], allowUncheckedPlatform: true, artifacts };
    const a = await verifyAibom(v1.text, { ...opts, nonce });
    expect(a.error).toBeUndefined();
    expect(a.valid).toBe(true);
    expect(a.checks.find((c) => c.id === 'artifacts')?.ok).toBe(true);
    const l = await verifyAibom(legacy.text, opts);
    expect(l.valid).toBe(true);
    // a v1 document is bound to the nonce it was asked with
    expect((await verifyAibom(v1.text, { ...opts, nonce: sha256hex('other') })).valid).toBe(false);
    // the weights are those the deterministic trainer derives from the inputs: the AIBOM names them by sha256
    const { stdout } = await run('sha256sum', [join(outDir, 'lora-out/adapter_model.safetensors')]);
    expect(a.claims.outputs).toContainEqual({ name: 'lora-out/adapter_model.safetensors', sha256: stdout.split(' ')[0] });
    expect((await call(`${runner.url}/finetune`, 'POST')).status).toBe(409);
  });
});
