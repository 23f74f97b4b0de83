/**
 * Azurite (the Azure Blob Storage emulator) for live tests: `azurite-blob --blobHost 127.0.0.1 --blobPort <free>
 * --skipApiVersionCheck --location <tmp> --silent`, stopped BY PID (SIGTERM, SIGKILL after 5 s), temp folder removed.
 * --skipApiVersionCheck: @azure/storage-blob 12.34 sends a service version Azurite 3.37 does not know yet.
 * Well-known development account: https://learn.microsoft.com/azure/storage/common/storage-use-azurite
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  port: number;
  pid: number;
  /** http://127.0.0.1:PORT/devstoreaccount1 */
  accountUrl: string;
  connectionString: string;
  stop(): Promise<void>;
}

const BIN = resolve(import.meta.dirname ?? '.', '../../node_modules/.bin/azurite-blob');

/** True when the azurite devDependency is installed. */
export function azuriteAvailable(): boolean {
  if (existsSync(BIN)) return true;
  console.warn('NOTICE: node_modules/.bin/azurite-blob not found (npm install); blob tests are skipped.');
  return false;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const accepting = (port: number) =>
  new Promise<boolean>((r) => {
    const c = createConnection(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), r(true)));
    c.once('error', () => r(false));
  });

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, 'SIGTERM');
  const t = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** Starts Azurite's blob service on a free loopback port in a fresh folder. */
export async function startAzurite(): Promise<Azurite> {
  const dir = await mkdtemp(join(tmpdir(), 'aicert-azurite-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(BIN, ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--skipApiVersionCheck', '--disableTelemetry', '--location', dir, '--silent'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const deadline = Date.now() + 45_000; // a loaded 2-core machine needs 10-20 s
    while (Date.now() < deadline && child.exitCode === null && !(await accepting(port))) await new Promise((r) => setTimeout(r, 100));
    if (child.exitCode !== null || !(await accepting(port))) {
      await stopChild(child);
      if (attempt < 4) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`azurite-blob did not start: ${err}`);
    }
    const accountUrl = `http://127.0.0.1:${port}/${DEV_ACCOUNT}`;
    let stopped: Promise<void> | undefined;
    return {
      port,
      pid: child.pid!,
      accountUrl,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${accountUrl};`,
      stop: () => (stopped ??= stopChild(child).then(() => rm(dir, { recursive: true, force: true }))),
    };
  }
  throw new Error('unreachable');
}
