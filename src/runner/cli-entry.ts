/**
 * Command line of the reference runner (`aicert runner`, what the VM image starts; tests spawn it on swtpm). Options:
 * RUNNER_HELP below and spec/runner-protocol.md §Command line. Prints `READY <url>` on stdout once the launch nonce
 * and the TLS certificate are measured and the server listens; stops on SIGTERM/SIGINT.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { parseLaunchUserData } from '../wire/launch.js';
import { localFolderFetcher, type Fetcher } from './fetchers.js';
import { bwrapBackend, checkReadOnlyPaths, podmanBackend, probeSandbox, unconfinedBackend, type SandboxBackend } from './sandbox.js';
import { startRunner } from './server.js';
import { imdsText } from './imds.js';
import { Escaped, stderr, stderrLines } from '../node/stderr.js';

const run = promisify(execFile);
const IMDS_USER_DATA = 'http://169.254.169.254/metadata/instance/compute/userData?api-version=2021-01-01&format=text';

export const RUNNER_USAGE = 'aicert runner --work-dir DIR (--mirror DIR | --hf-endpoint URL) [options] -- TRAIN-COMMAND...';

export const RUNNER_HELP = `usage: ${RUNNER_USAGE}

The reference runner: an attested HTTPS server on this machine's TPM that runs one sandboxed fine-tune.
  --tcti T                  TPM: device:/dev/tpmrm0 (default; TPM2TOOLS_TCTI overrides), swtpm:host=H,port=P
  --host H                  listen address (default 0.0.0.0: the launcher reaches the VM's public IP)
  --port P                  listen port (default 443; 0 = any free port, printed in READY)
  --work-dir DIR            the runner's private folder (TLS key, run state); never visible to the trainer
  --mirror DIR              local fetcher: DIR/ORG/NAME/<commit>/, DIR/datasets/ORG/NAME/<commit>/
  --hf-endpoint URL         Hugging Face Hub fetcher (HF_ENDPOINT convention; HF_TOKEN for gated repositories)
  --sandbox bwrap|podman    how the trainer is confined (default bwrap); the runner refuses to start without one
  --trainer-image REF       podman: the trainer image, pinned as NAME@sha256:<64 hex>; its id is asked from podman
  --sandbox-ro PATH         bwrap: also show PATH read-only at the same place (the trainer's code; repeatable)
  --unconfined-training     DEVELOPMENT ONLY: run the trainer without a sandbox. It then shares the runner's user,
                            network and TPM; this is measured (training_sandbox backend "none") and verifiers
                            refuse such an AIBOM unless their policy sets allowUnconfinedTraining
  --trainer-env NAME=VALUE  a variable for the trainer (repeatable); the runner's own environment is never passed
  --image NAME=sha256:HEX   an image measured as an input_image event (repeatable; e.g. the runner image)
  --launch-nonce HEX        launch nonce measured as the first PCR 14 event (or --launch-nonce-imds: Azure userData)
  --tls-key PEM --tls-cert PEM   TLS key and leaf (default: made once in --work-dir and reused on restart)
  --tls-chain PEM           intermediates served after the leaf
  --tls-ca PEM              the certificate measured into PCR 15 and sent as ca_cert (default the leaf), e.g. a
                            local CA the leaf chains to through --tls-chain
  --cert-chain PEM          AK certificate chain sent after the NV AK certificate (repeatable)
  --ak-handle H             AK persistent handle (default 0x81000003); --no-nv-cert: no AK certificate in NV
  --boot-log PATH           boot event log to embed in AIBOMs (e.g. /sys/kernel/security/tpm0/binary_bios_measurements)
  --original-protocol       ignore nonces exactly like the original aicert server (replayable; for compatibility tests)
  --confidential-vm         Azure confidential VM: include the HCL report (vTPM NV 0x01400001) in AIBOMs, with
                            --vcek PEM (SEV-SNP VCEK chain) or --td-quote FILE (TDX TD quote) when known, or fetched
                            from Azure IMDS with --vcek-imds (THIM) / --td-quote-imds; --imds-endpoint URL replaces
                            http://169.254.169.254 (answers are checked against the HCL report before start)
Exit: 0 stopped by SIGTERM/SIGINT, 1 could not start (TPM, sandbox, PCR state), 2 usage error.`;

/** A usage error: exit 2. */
export class RunnerUsageError extends Error {
  override name = 'RunnerUsageError';
}

/** The TLS key and certificate kept in the work folder: made once (P-256, self-signed), reused on every restart. */
async function workDirTls(dir: string, host: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, 'tls.key'), cert = join(dir, 'tls.pem');
  const have = (await stat(key).catch(() => undefined))?.isFile() && (await stat(cert).catch(() => undefined))?.isFile();
  if (!have) {
    const san = host === '0.0.0.0' || host === '::' ? 'IP:127.0.0.1' : /^[\d.]+$/.test(host) ? `IP:${host}` : `DNS:${host}`;
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-subj', '/CN=aicert runner', '-days', '30', '-addext', `subjectAltName=${san}`]);
  }
  await chmod(key, 0o600);
  return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
}

/** The launch nonce from Azure IMDS userData (the launcher's launchUserData: base64 JSON {"aicert_launch": …}). */
async function imdsLaunchNonce(): Promise<string> {
  // Retried for up to 70 s on 410 and 5xx (src/runner/imds.ts).
  return Buffer.from(parseLaunchUserData((await imdsText({ url: IMDS_USER_DATA })).trim()).nonce).toString('hex');
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** `--confidential-vm` inputs: the VCEK / TD quote from files, or from Azure IMDS (`--vcek-imds`, `--td-quote-imds`). */
async function cvmOptions(v: Values) {
  if ((v.vcek && v['vcek-imds']) || (v['td-quote'] && v['td-quote-imds'])) throw new RunnerUsageError('give the VCEK / TD quote as a file or from IMDS, not both');
  const endpoint = v['imds-endpoint'] as string | undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(endpoint)) throw new RunnerUsageError(`--imds-endpoint must be http(s)://HOST[:PORT], got ${endpoint.slice(0, 80)}`);
  return {
    ...(v.vcek ? { vcek: await readFile(v.vcek as string, 'utf8') } : {}),
    ...(v['td-quote'] ? { tdQuote: new Uint8Array(await readFile(v['td-quote'] as string)) } : {}),
    ...(v['vcek-imds'] || v['td-quote-imds'] ? { imds: { ...(endpoint ? { endpoint } : {}), vcek: v['vcek-imds'] === true, tdQuote: v['td-quote-imds'] === true } } : {}),
  };
}

/** The sandbox the options ask for, checked to work here. */
async function chooseSandbox(v: Values, workDir: string, tcti: string): Promise<SandboxBackend> {
  if (v['unconfined-training']) {
    if (v.sandbox !== undefined) throw new RunnerUsageError('--unconfined-training and --sandbox exclude each other');
    stderr`runner: WARNING: --unconfined-training: the trainer runs unconfined; AIBOMs say so and verifiers refuse them by default\n`;
    return unconfinedBackend();
  }
  const kind = (v.sandbox as string | undefined) ?? 'bwrap';
  let b: SandboxBackend;
  if (kind === 'bwrap') {
    const ro = ((v['sandbox-ro'] as string[] | undefined) ?? []).map((p) => resolve(p));
    // The runner's private paths: the work folder and a TCTI socket or device.
    const tctiPath = /(?:path=|device:)([^,]+)/.exec(tcti)?.[1];
    checkReadOnlyPaths(ro, [resolve(workDir), ...(tctiPath ? [tctiPath] : [])]);
    b = bwrapBackend({ readOnly: ro });
  } else if (kind === 'podman') {
    if (typeof v['trainer-image'] !== 'string') throw new RunnerUsageError('--sandbox podman needs --trainer-image NAME@sha256:<64 hex>');
    b = podmanBackend({ image: v['trainer-image'] });
  } else throw new RunnerUsageError(`--sandbox must be bwrap or podman, got ${kind}`);
  await probeSandbox(b);
  return b;
}

/** The fetcher the options ask for: the local mirror or the Hub. */
async function chooseFetcher(v: Values, workDir: string): Promise<Fetcher> {
  if (v.mirror && v['hf-endpoint']) throw new RunnerUsageError('--mirror and --hf-endpoint exclude each other');
  if (typeof v.mirror === 'string') return localFolderFetcher(v.mirror);
  const endpoint = (v['hf-endpoint'] as string | undefined) ?? process.env.HF_ENDPOINT;
  if (!endpoint) throw new RunnerUsageError('name a fetcher: --mirror DIR or --hf-endpoint URL');
  // the Hub fetcher (spec/hub.md §5): pinned commits downloaded and proven under the work folder
  const { hubFetcher } = await import('./fetch-hub.js');
  return hubFetcher({ root: join(workDir, 'hub'), endpoint, token: process.env.HF_TOKEN || undefined });
}

/** Parses argv and starts the runner; resolves with the exit code once it stopped. */
export async function main(argv: string[]): Promise<number> {
  let v: Values, positionals: string[];
  try {
    ({ values: v, positionals } = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        tcti: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, 'work-dir': { type: 'string' },
        mirror: { type: 'string' }, 'hf-endpoint': { type: 'string' }, sandbox: { type: 'string' }, 'trainer-image': { type: 'string' },
        'sandbox-ro': { type: 'string', multiple: true }, 'unconfined-training': { type: 'boolean' }, image: { type: 'string', multiple: true }, 'trainer-env': { type: 'string', multiple: true },
        'launch-nonce': { type: 'string' }, 'launch-nonce-imds': { type: 'boolean' }, 'tls-key': { type: 'string' }, 'tls-cert': { type: 'string' },
        'tls-chain': { type: 'string' }, 'tls-ca': { type: 'string' }, 'cert-chain': { type: 'string', multiple: true },
        'ak-handle': { type: 'string' }, 'no-nv-cert': { type: 'boolean' }, 'original-protocol': { type: 'boolean' }, 'boot-log': { type: 'string' },
        'confidential-vm': { type: 'boolean' }, vcek: { type: 'string' }, 'td-quote': { type: 'string' },
        'vcek-imds': { type: 'boolean' }, 'td-quote-imds': { type: 'boolean' }, 'imds-endpoint': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    stderr`runner: ${(e as Error).message}\nusage: ${new Escaped(RUNNER_USAGE)}\n`;
    return 2;
  }
  if (v.help) return void process.stdout.write(RUNNER_HELP + '\n'), 0;
  try {
    return await serve(v, positionals);
  } catch (e) {
    if (e instanceof RunnerUsageError) return void stderr`runner: ${e.message}\nusage: ${new Escaped(RUNNER_USAGE)}\n`, 2;
    throw e;
  }
}

async function serve(v: Values, positionals: string[]): Promise<number> {
  const workDir = v['work-dir'] as string | undefined;
  if (!workDir || positionals.length === 0) throw new RunnerUsageError('--work-dir and a TRAIN-COMMAND after -- are required');
  const port = v.port === undefined ? 443 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RunnerUsageError(`--port must be 0..65535, got ${String(v.port)}`);
  const images = ((v.image as string[] | undefined) ?? []).map((s) => {
    const m = /^([^=]+)=(sha256:[0-9a-f]{64})$/.exec(s);
    if (!m) throw new RunnerUsageError(`--image must be NAME=sha256:<64 hex>, got ${s}`);
    return { name: m[1]!, id: m[2]! };
  });
  const trainerEnv: Record<string, string> = {};
  for (const s of (v['trainer-env'] as string[] | undefined) ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(s);
    if (!m) throw new RunnerUsageError(`--trainer-env must be NAME=VALUE, got ${s}`);
    trainerEnv[m[1]!] = m[2]!;
  }
  if (Boolean(v['tls-key']) !== Boolean(v['tls-cert'])) throw new RunnerUsageError('--tls-key and --tls-cert go together');
  const host = (v.host as string | undefined) ?? '0.0.0.0';
  const tcti = (v.tcti as string | undefined) ?? process.env.TPM2TOOLS_TCTI ?? 'device:/dev/tpmrm0';
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const sandbox = await chooseSandbox(v, workDir, tcti);
  const fetcher = await chooseFetcher(v, workDir);
  const read = (p: unknown) => readFile(p as string, 'utf8');
  const tls = v['tls-key'] ? { key: await read(v['tls-key']), cert: await read(v['tls-cert']) } : await workDirTls(workDir, host);
  const launchNonce = (v['launch-nonce'] as string | undefined) ?? (v['launch-nonce-imds'] ? await imdsLaunchNonce() : undefined);
  const runner = await startRunner({
    tcti, host, port, workDir, fetcher, sandbox, trainCommand: positionals, images, trainerEnv,
    tls: { ...tls, ...(v['tls-chain'] ? { chain: await read(v['tls-chain']) } : {}), ...(v['tls-ca'] ? { measured: await read(v['tls-ca']) } : {}) },
    certChain: await Promise.all(((v['cert-chain'] as string[] | undefined) ?? []).map(read)),
    ...(launchNonce !== undefined ? { launchNonce } : {}),
    ...(v['ak-handle'] ? { akHandle: v['ak-handle'] as string } : {}),
    ...(v['no-nv-cert'] ? { akCertNvIndex: null } : {}),
    ...(v['original-protocol'] ? { protocol: 'original' as const } : {}),
    ...(v['boot-log'] ? { bootEventLogPath: v['boot-log'] as string } : {}),
    // Confidential VM: the HCL report from NV 0x01400001 goes into every AIBOM (src/runner/hcl.ts).
    ...(v['confidential-vm'] ? { confidentialVm: await cvmOptions(v) } : {}),
    log: stderrLines(''),
  });
  process.stdout.write(`READY ${runner.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void runner.close().then(resolve, resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
