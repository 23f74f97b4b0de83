/**
 * Starts a private swtpm (TPM 2.0 simulator) for live tests: fresh state from swtpm_setup in a mktemp dir,
 * `swtpm socket` on 127.0.0.1 (random free port pair P, P+1) or on a unix socket inside that dir, then
 * `tpm2_startup -c`. The process is stopped BY ITS PID (SIGTERM, then SIGKILL after 5 s) and the dir removed.
 * swtpm(8): https://github.com/stefanberger/swtpm/wiki ; TCTI config strings: tpm2-tss doc/tcti.md
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Swtpm {
  /** TCTI string for tpm2-tools / tss2 (`swtpm:host=127.0.0.1,port=P` or `swtpm:path=SOCK`). */
  readonly tcti: string;
  /** `process.env` plus TPM2TOOLS_TCTI, ready for execFile('tpm2_…'). */
  readonly env: NodeJS.ProcessEnv;
  /** PID of the swtpm process. */
  readonly pid: number;
  /** Private directory with the TPM state (removed by stop()). */
  readonly dir: string;
  /** Stop swtpm by PID (SIGTERM, SIGKILL after 5 s) and remove the directory. Idempotent. */
  stop(): Promise<void>;
}

export interface SwtpmOptions {
  /** 'tcp' (default): 127.0.0.1 on a random free port pair; 'unix': a socket in the private directory. */
  transport?: 'tcp' | 'unix';
  /** PCR banks to allocate (default 'sha256'). */
  pcrBanks?: string;
}

let noticePrinted = false;

/** True when swtpm, swtpm_setup and tpm2_startup are on PATH; otherwise prints a notice once and returns false. */
export function swtpmAvailable(): boolean {
  const missing = ['swtpm', 'swtpm_setup', 'tpm2_startup'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length === 0) return true;
  if (!noticePrinted) {
    noticePrinted = true;
    console.warn(`NOTICE: ${missing.join(', ')} not on PATH; live TPM tests are skipped (apt-get install swtpm swtpm-tools tpm2-tools libtss2-tcti-swtpm0).`);
  }
  return false;
}

// Processes still running when the test worker exits are killed by PID (last resort; stop() is the normal path).
const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** A loopback port P such that P and P+1 were both free a moment ago. */
async function freePortPair(): Promise<number> {
  const listen = (port: number) =>
    new Promise<ReturnType<typeof createServer> | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  for (let i = 0; i < 50; i++) {
    const a = await listen(0);
    if (!a) continue;
    const addr = a.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const b = port > 0 && port < 65535 ? await listen(port + 1) : undefined;
    await new Promise<void>((r) => a.close(() => r()));
    if (b) {
      await new Promise<void>((r) => b.close(() => r()));
      return port;
    }
  }
  throw new Error('swtpm helper: no free 127.0.0.1 port pair');
}

/** Resolves once a connection to the endpoint succeeds; rejects if the child exits or 5 s pass. */
async function waitReady(child: ChildProcess, target: { port: number } | { path: string }): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`swtpm exited early (${child.exitCode ?? child.signalCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = 'port' in target ? createConnection(target.port, '127.0.0.1') : createConnection(target.path);
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('swtpm did not accept connections within 5 s');
}

/** Stop PID: SIGTERM, wait up to 5 s for the child to exit, then SIGKILL. */
async function stopChild(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await exited;
  }
  live.delete(pid);
}

/** Manufacture a fresh TPM, start swtpm, run TPM2_Startup(CLEAR). Always pair with stop(). */
export async function startSwtpm(opts: SwtpmOptions = {}): Promise<Swtpm> {
  if (process.env.AICERT_TEST_SUBSET === 'unit') throw new Error('swtpm started in the unit subset: list this suite in STARTS_SWTPM (vitest.config.ts)');
  const transport = opts.transport ?? 'tcp';
  const dir = await mkdtemp(join(tmpdir(), 'aicert-swtpm-'));
  let child: ChildProcess | undefined;
  try {
    // Private swtpm_setup config and XDG dir: nothing is read from or written to the user's configuration.
    await writeFile(join(dir, 'swtpm_setup.conf'), '# private config (no EK certificates)\n');
    await mkdir(join(dir, 'state'));
    const setupLog = join(dir, 'swtpm_setup.log');
    await run('swtpm_setup', ['--tpm2', '--tpmstate', `dir://${join(dir, 'state')}`, '--config', join(dir, 'swtpm_setup.conf'),
      '--pcr-banks', opts.pcrBanks ?? 'sha256', '--overwrite', '--logfile', setupLog],
      { env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'xdg') } }).catch(async (err: Error) => {
      const log = await readFile(setupLog, 'utf8').catch(() => '');
      throw new Error(`swtpm_setup failed: ${err.message}\n${log}`);
    });
    for (let attempt = 0; ; attempt++) {
      const common = ['socket', '--tpm2', '--tpmstate', `dir=${join(dir, 'state')}`, '--flags', 'not-need-init', '--log', `file=${join(dir, 'swtpm.log')},level=1`];
      let tcti: string;
      let target: { port: number } | { path: string };
      let args: string[];
      if (transport === 'unix') {
        const path = join(dir, 'tpm.sock');
        args = [...common, '--server', `type=unixio,path=${path}`, '--ctrl', `type=unixio,path=${path}.ctrl`];
        tcti = `swtpm:path=${path}`;
        target = { path };
      } else {
        const port = await freePortPair();
        args = [...common, '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`, '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`];
        tcti = `swtpm:host=127.0.0.1,port=${port}`;
        target = { port };
      }
      child = spawn('swtpm', args, { stdio: 'ignore' });
      if (child.pid !== undefined) live.add(child.pid);
      try {
        await waitReady(child, target);
      } catch (err) {
        await stopChild(child);
        // A port taken between the probe and swtpm's bind makes swtpm exit: retry with another pair.
        if (transport === 'tcp' && attempt < 5) continue;
        throw err;
      }
      const env = { ...process.env, TPM2TOOLS_TCTI: tcti };
      await run('tpm2_startup', ['-c'], { env });
      const proc = child;
      let stopped: Promise<void> | undefined;
      return {
        tcti,
        env,
        pid: proc.pid ?? -1,
        dir,
        stop: () => (stopped ??= stopChild(proc).then(() => rm(dir, { recursive: true, force: true }))),
      };
    }
  } catch (err) {
    if (child) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
