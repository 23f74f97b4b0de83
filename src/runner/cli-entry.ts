/**
 * Command line of the reference runner (what the VM image starts; tests spawn it on swtpm):
 *   runner [--tcti T] [--host H] [--port P] --work-dir DIR --mirror DIR [--image NAME=sha256:HEX]...
 *          [--launch-nonce HEX | --launch-nonce-imds] [--tls-key PEM --tls-cert PEM] [--cert-chain PEM]...
 *          [--ak-handle 0x81000003] [--no-nv-cert] [--original-protocol] [--boot-log PATH] -- TRAIN-COMMAND...
 * Prints `READY <url>` on stdout once PCRs 15/23 are extended and the server listens; stops on SIGTERM/SIGINT.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { parseLaunchUserData } from '../launcher/provision.js';
import { localFolderFetcher } from './fetchers.js';
import { startRunner } from './server.js';
import { imdsText } from './imds.js';

const run = promisify(execFile);
const IMDS_USER_DATA = 'http://169.254.169.254/metadata/instance/compute/userData?api-version=2021-01-01&format=text';

/** A throwaway self-signed P-256 certificate for the TLS endpoint (the original used Caddy's local CA). */
async function makeTlsCertificate(dir: string, host: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, 'tls.key'), cert = join(dir, 'tls.pem');
  const san = /^[\d.]+$/.test(host) ? `IP:${host}` : `DNS:${host}`;
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-subj', '/CN=aicert runner', '-days', '7', '-addext', `subjectAltName=${san}`]);
  return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
}

/** The launch nonce from Azure IMDS userData (the launcher's launchUserData: base64 JSON {"aicert_launch": …}). */
async function imdsLaunchNonce(): Promise<string> {
  // Retried for up to 70 s on 410 and 5xx (src/runner/imds.ts).
  return Buffer.from(parseLaunchUserData((await imdsText({ url: IMDS_USER_DATA })).trim()).nonce).toString('hex');
}

export async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tcti: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' },
      'work-dir': { type: 'string' }, mirror: { type: 'string' }, image: { type: 'string', multiple: true },
      'launch-nonce': { type: 'string' }, 'launch-nonce-imds': { type: 'boolean' },
      'tls-key': { type: 'string' }, 'tls-cert': { type: 'string' }, 'cert-chain': { type: 'string', multiple: true },
      'ak-handle': { type: 'string' }, 'no-nv-cert': { type: 'boolean' }, 'original-protocol': { type: 'boolean' },
      'boot-log': { type: 'string' },
    },
  });
  if (!v['work-dir'] || !v.mirror || positionals.length === 0) {
    process.stderr.write('usage: runner --work-dir DIR --mirror DIR [options] -- TRAIN-COMMAND...\n');
    return 2;
  }
  const host = v.host ?? '127.0.0.1';
  await mkdir(v['work-dir'], { recursive: true });
  const tls = v['tls-key'] && v['tls-cert']
    ? { key: await readFile(v['tls-key'], 'utf8'), cert: await readFile(v['tls-cert'], 'utf8') }
    : await makeTlsCertificate(v['work-dir'], host);
  const images = (v.image ?? []).map((s) => {
    const m = /^([^=]+)=(sha256:[0-9a-f]{64})$/.exec(s);
    if (!m) throw new TypeError(`--image must be NAME=sha256:<64 hex>, got ${s}`);
    return { name: m[1]!, id: m[2]! };
  });
  const launchNonce = v['launch-nonce'] ?? (v['launch-nonce-imds'] ? await imdsLaunchNonce() : undefined);
  const runner = await startRunner({
    tcti: v.tcti ?? process.env.TPM2TOOLS_TCTI ?? 'device:/dev/tpmrm0',
    host,
    port: v.port === undefined ? 443 : Number(v.port),
    workDir: v['work-dir'],
    fetcher: localFolderFetcher(v.mirror),
    trainCommand: positionals,
    images,
    tls,
    certChain: await Promise.all((v['cert-chain'] ?? []).map((p) => readFile(p, 'utf8'))),
    ...(launchNonce !== undefined ? { launchNonce } : {}),
    ...(v['ak-handle'] ? { akHandle: v['ak-handle'] } : {}),
    ...(v['no-nv-cert'] ? { akCertNvIndex: null } : {}),
    ...(v['original-protocol'] ? { protocol: 'original' as const } : {}),
    ...(v['boot-log'] ? { bootEventLogPath: v['boot-log'] } : {}),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(`READY ${runner.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void runner.close().then(resolve, resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
