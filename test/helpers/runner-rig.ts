/**
 * A reference runner on swtpm for tests: provisions the TPM like an Azure Trusted Launch vTPM (AK persisted at
 * 0x81000003, its certificate from a throwaway CA in NV 0x01C101D0, CA made by testvectors/lib/ca.sh), builds a local
 * model/dataset mirror, bundles the runner (testvectors/runner.mjs) and spawns it as its own process, stopped BY PID.
 */
import { Agent, request } from 'node:https';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Tpm } from '../../src/runner/tpm.js';
import { startSwtpm, type Swtpm, type SwtpmOptions } from './swtpm.js';

const run = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TRAINER = join(ROOT, 'testvectors/runner/tiny-trainer.mjs');
export const MODEL = { repo: 'aicert-test/tiny-base', revision: createHash('sha1').update('tiny-base').digest('hex') };
export const DATASET = { repo: 'aicert-test/tiny-instruct', revision: createHash('sha1').update('tiny-instruct').digest('hex'), file: 'data/train.jsonl' };
export const sha256hex = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A throwaway AK CA (root -> intermediate), made once per test file. */
export interface TestCa {
  dir: string;
  rootPem: string;
  intermediatePem: string;
}

/** Runs bash with testvectors/lib/{common,ca}.sh sourced; args are $1.. */
async function caSh(script: string, args: string[]): Promise<void> {
  const lib = join(ROOT, 'testvectors/lib');
  await run('bash', ['-c', `set -euo pipefail; source "${lib}/common.sh"; source "${lib}/ca.sh"; ${script}`, 'bash', ...args]);
}

export async function makeCa(dir: string): Promise<TestCa> {
  await mkdir(dir, { recursive: true });
  await caSh('ca_write_config "$1" id:53573530 id:73777470 id:20191023', [dir]);
  await caSh('ca_root "$1" root "/O=aicert test/CN=aicert Test AK Root"', [dir]);
  await caSh('ca_intermediate "$1" intermediate root "/O=aicert test/CN=aicert Test AK Issuing CA"', [dir]);
  return { dir, rootPem: await readFile(join(dir, 'root.pem'), 'utf8'), intermediatePem: await readFile(join(dir, 'intermediate.pem'), 'utf8') };
}

let issuing: Promise<unknown> = Promise.resolve();

/** Starts swtpm and provisions EK, the AK at 0x81000003 and its certificate at NV 0x01C101D0. */
export async function provisionedSwtpm(ca: TestCa, opts: SwtpmOptions = {}): Promise<Swtpm> {
  const sw = await startSwtpm(opts);
  try {
    const tpm = await Tpm.open(sw.tcti);
    await tpm.createEk();
    const ak = await tpm.persistAk(await tpm.createAk('ak', 'rsa'), '0x81000003');
    const akPem = join(sw.dir, 'ak.pem'), crt = join(sw.dir, 'ak.crt');
    await writeFile(akPem, ak.pem);
    // ca_issue_ak uses fixed scratch files in the CA dir: one issuance at a time.
    const issue = issuing.then(() => caSh('ca_issue_ak "$1" intermediate "$2" "/O=aicert test/CN=$3.TrustedVM.aicert.test" ext_ak "$4"', [ca.dir, akPem, 'vm' + sw.pid, crt]));
    issuing = issue.catch(() => undefined);
    await issue;
    const { stdout } = await run('openssl', ['x509', '-in', crt, '-outform', 'DER'], { encoding: 'buffer' });
    await tpm.nvWrite(0x01c101d0, new Uint8Array(stdout));
    await tpm.close();
    return sw;
  } catch (e) {
    await sw.stop();
    throw e;
  }
}

/** Local mirror ROOT/[datasets/]ORG/NAME/<commit>/ and a matching aicert.yaml text. */
export async function makeMirror(dir: string): Promise<{ mirror: string; configYaml: string }> {
  const m = join(dir, MODEL.repo, MODEL.revision), d = join(dir, 'datasets', DATASET.repo, DATASET.revision);
  await mkdir(m, { recursive: true });
  await mkdir(join(d, 'data'), { recursive: true });
  await writeFile(join(m, 'config.json'), JSON.stringify({ architectures: ['TinyForCausalLM'], hidden_size: 1024 }) + '\n');
  await writeFile(join(m, 'model.safetensors'), Buffer.alloc(4096, 7));
  await writeFile(join(d, DATASET.file), Array.from({ length: 8 }, (_, i) => JSON.stringify({ instruction: `add ${i} and 1`, output: String(i + 1) })).join('\n') + '\n');
  const configYaml = [
    `base_model: ${MODEL.repo}@sha1:${MODEL.revision}`,
    'datasets:',
    `  - path: ${DATASET.repo}@sha1:${DATASET.revision}`,
    `    name: ${DATASET.file}`,
    '    type: alpaca',
    'adapter: lora',
    'lora_r: 8',
    'lora_dropout: 0.05',
    'learning_rate: 0.0002',
    'num_epochs: 1',
    '',
  ].join('\n');
  return { mirror: dir, configYaml };
}

let bundled: Promise<string> | undefined;
/** The runner bundle (built once per worker). */
export function runnerBundle(): Promise<string> {
  bundled ??= import(pathToFileURL(join(ROOT, 'testvectors/runner.mjs')).href).then((m: { bundleRunner: (d: string) => Promise<string> }) =>
    m.bundleRunner(join(ROOT, `node_modules/.cache/aicert-runner-${process.pid}`)),
  );
  return bundled;
}

export interface RunnerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the runner wrote on stderr. */
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM by PID, SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

/** Spawns the runner on a TPM; resolves when it printed READY. */
export async function spawnRunner(o: {
  tcti: string;
  mirror: string;
  /** Fetch from this Hub endpoint instead of the mirror (`--hf-endpoint`). */
  hfEndpoint?: string;
  workDir: string;
  args?: string[];
  env?: Record<string, string>;
  images?: string[];
  /** Training command (default: node tiny-trainer.mjs). */
  command?: string[];
}): Promise<RunnerProcess> {
  const bundle = await runnerBundle();
  const trainerId = `sha256:${sha256hex(await readFile(TRAINER))}`;
  const images = o.images ?? [`@local/aicert-runner:test=${trainerId}`];
  const sandbox = o.args?.includes('--unconfined-training') ? [] : ['--sandbox-ro', join(ROOT, 'testvectors')];
  // The trainer never inherits the runner's environment: test knobs go through --trainer-env.
  const knobs = Object.entries(o.env ?? {}).filter(([k]) => k.startsWith('TINY_TRAINER_')).flatMap(([k, v]) => ['--trainer-env', `${k}=${v}`]);
  const args = [bundle, '--tcti', o.tcti, '--host', '127.0.0.1', '--port', '0', '--work-dir', o.workDir, ...(o.hfEndpoint ? ['--hf-endpoint', o.hfEndpoint] : ['--mirror', o.mirror]), ...sandbox,
    ...images.flatMap((i) => ['--image', i]), ...knobs, ...(o.args ?? []), '--', ...(o.command ?? [process.execPath, TRAINER])];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /READY (\S+)/.exec(out);
      if (m) res(m[1]!);
    });
    void exited.then((c) => rej(new Error(`runner exited (${c}) before READY:\n${err}`)));
  });
  let stopping: Promise<void> | undefined;
  return {
    url,
    pid: child.pid!,
    child,
    stderr: () => err,
    exited,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        process.kill(child.pid!, 'SIGTERM');
        const t = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      })()),
  };
}

/** A temp dir removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; rm: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, rm: () => rm(dir, { recursive: true, force: true }) };
}

/** One HTTPS request to a runner (its certificate is checked by the tests that care, not here): status and body text. */
export function callRunner(url: string, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: new Agent({ rejectUnauthorized: false }) }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
