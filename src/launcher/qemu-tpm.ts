/**
 * The local VM's TPM (spec/runner-image.md §Local mode): a private swtpm provisioned like an Azure Trusted Launch
 * vTPM before the VM boots — RSA EK, an RSA AK persisted at 0x81000003 and its certificate in NV 0x01C101D0, issued by
 * a throwaway CA made for this run with openssl (root -> AK leaf, EKU tcg-kp-AIKCertificate). The verifier trusts
 * that root for this run only. Every process is started by this module and stopped by its PID.
 * swtpm(8): https://github.com/stefanberger/swtpm/wiki ; tpm2-tools 5.x manual pages.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ToolError } from '../wire/tool-error.js';

const run = promisify(execFile);
export const AK_HANDLE = '0x81000003';
export const AK_CERT_NV_INDEX = '0x01c101d0';

/** A free loopback TCP port (bound then released; the caller binds it right after). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r, j) => s.once('error', j).listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * swtpm on two loopback TCP ports for provisioning. A free port can be taken by another process before swtpm binds it
 * (and port+1 was never checked), so a swtpm that exits at once is started again on new ports, a bounded number of times.
 */
async function provisioningSwtpm(state: string): Promise<{ sw: ChildProcess; tcti: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const sw = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${state}`, '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`, '--flags', 'not-need-init,startup-clear'], { stdio: 'ignore' });
    const tcti = `swtpm:host=127.0.0.1,port=${port}`;
    try {
      await until(async () => (await tpm2(tcti, 'tpm2_pcrread', ['sha256:0']).then(() => true, () => false)), 10_000, sw, 'swtpm');
      return { sw, tcti };
    } catch (e) {
      await stopProcess(sw);
      // only an early exit (a port taken) is retried; a swtpm that hangs is a real failure
      if (attempt >= 5 || sw.exitCode === null) throw e;
    }
  }
}

/** SIGTERM by PID, SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
export async function stopProcess(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}

/** Waits until `test` is true, polling every 50 ms; rejects after `ms` or when `child` exits. */
async function until(test: () => Promise<boolean>, ms: number, child: ChildProcess, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (child.exitCode !== null) throw new ToolError('PROCESS_FAILED', `${what}: process exited (${child.exitCode})`);
    if (Date.now() > end) throw new ToolError('TIMEOUT', `${what}: timed out`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** tpm2-tools call on the provisioning TCTI (execFile, never a shell). */
const tpm2 = (tcti: string, tool: string, args: string[]) => run(tool, args, { env: { ...process.env, TPM2TOOLS_TCTI: tcti }, timeout: 60_000 });

/** openssl call. */
const ossl = (args: string[]) => run('openssl', args, { timeout: 60_000 });

const CA_CONF = `[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ext_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ext_ak ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 2.23.133.8.3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

/** Issues the AK certificate (DER) from a new throwaway root in `dir`; returns the root PEM and the leaf DER. */
async function issueAkCertificate(dir: string, akPem: string): Promise<{ rootPem: string; akDer: Uint8Array }> {
  const f = (n: string) => join(dir, n);
  await writeFile(f('ca.cnf'), CA_CONF);
  await ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('root.key')]);
  await ossl(['req', '-new', '-x509', '-key', f('root.key'), '-subj', '/O=aicert local/CN=aicert local VM AK root (this run only)', '-days', '7',
    '-sha256', '-config', f('ca.cnf'), '-extensions', 'ext_root', '-out', f('root.pem')]);
  // A restricted AK cannot sign a CSR: a throwaway CSR key, replaced by the AK with -force_pubkey.
  await ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('csr.key')]);
  await ossl(['req', '-new', '-key', f('csr.key'), '-subj', '/O=aicert local/CN=local.TrustedVM.aicert.qemu', '-config', f('ca.cnf'), '-out', f('ak.csr')]);
  await ossl(['x509', '-req', '-in', f('ak.csr'), '-force_pubkey', akPem, '-CA', f('root.pem'), '-CAkey', f('root.key'), '-days', '7', '-sha256',
    '-set_serial', '0x' + Date.now().toString(16), '-extfile', f('ca.cnf'), '-extensions', 'ext_ak', '-outform', 'DER', '-out', f('ak.der')]);
  return { rootPem: await readFile(f('root.pem'), 'utf8'), akDer: new Uint8Array(await readFile(f('ak.der'))) };
}

export interface VmTpm {
  /** swtpm's control socket for QEMU's `-chardev socket,path=…`. */
  socket: string;
  /** The throwaway AK root (PEM) to trust for this run. */
  rootPem: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Creates the TPM state in `dir`, provisions EK/AK/AK certificate, then serves it to QEMU on a unix socket. */
export async function startVmTpm(dir: string, opts: { provision?: boolean } = {}): Promise<VmTpm> {
  const state = join(dir, 'tpm-state');
  await mkdir(state, { recursive: true });
  await run('swtpm_setup', ['--tpm2', '--tpmstate', state, '--pcr-banks', 'sha1,sha256', '--config', '/dev/null'], { timeout: 60_000 });
  let rootPem = '';
  if (opts.provision !== false) {
    // 1. provisioning over TCP with tpm2-tools
    const { sw, tcti } = await provisioningSwtpm(state);
    try {
      const f = (n: string) => join(dir, n);
      // no resource manager: transient objects are flushed after each step
      const flush = () => tpm2(tcti, 'tpm2_flushcontext', ['-t']);
      await tpm2(tcti, 'tpm2_createek', ['-c', f('ek.ctx'), '-G', 'rsa', '-u', f('ek.pub')]);
      await flush();
      await tpm2(tcti, 'tpm2_createak', ['-C', f('ek.ctx'), '-c', f('ak.ctx'), '-G', 'rsa', '-g', 'sha256', '-s', 'rsassa', '-u', f('ak.pub'), '-n', f('ak.name')]);
      await flush();
      await tpm2(tcti, 'tpm2_evictcontrol', ['-C', 'o', '-c', f('ak.ctx'), AK_HANDLE]);
      await flush();
      await tpm2(tcti, 'tpm2_readpublic', ['-c', AK_HANDLE, '-f', 'pem', '-o', f('ak.pem')]);
      const ca = await issueAkCertificate(dir, f('ak.pem'));
      rootPem = ca.rootPem;
      await writeFile(f('ak.der'), ca.akDer);
      await tpm2(tcti, 'tpm2_nvdefine', ['-C', 'o', '-s', String(ca.akDer.length), '-a', 'ownerread|ownerwrite|authread|authwrite', AK_CERT_NV_INDEX]);
      await tpm2(tcti, 'tpm2_nvwrite', ['-C', 'o', '-i', f('ak.der'), AK_CERT_NV_INDEX]);
      await tpm2(tcti, 'tpm2_shutdown', []).catch(() => undefined);
    } finally {
      await stopProcess(sw);
    }
  }
  // 2. the same state, served to QEMU (the firmware sends TPM2_Startup)
  const socket = join(dir, 'swtpm.sock');
  const child = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${state}`, '--ctrl', `type=unixio,path=${socket}`,
    '--log', `file=${join(dir, 'swtpm.log')},level=1`], { stdio: 'ignore' });
  try {
    await until(async () => existsSync(socket), 10_000, child, 'swtpm socket');
  } catch (e) {
    await stopProcess(child);
    throw e;
  }
  return { socket, rootPem, child, stop: () => stopProcess(child) };
}
