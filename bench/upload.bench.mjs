// Upload throughput of the runner's uploader (src/runner/upload.ts: parallel Put Block over node:http, per-blob SAS)
// next to @azure/storage-blob's BlockBlobClient.uploadFile, same file, same Azurite, same run. Needs dist/ (npm run
// build) and the azurite devDependency; prints MB/s and the ratio. BENCH_UPLOAD_MB sets the file size (default 512).
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const { uploadOutputs } = await import(join(dist, 'runner/index.js'));
const { makeBlobSas, parseContainerUrl } = await import(join(dist, 'launcher/index.js'));
const { BlobServiceClient } = await import('@azure/storage-blob');
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const MB = Number(process.env.BENCH_UPLOAD_MB ?? 512);
const ROUNDS = 3;

const freePort = () => new Promise((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const accepting = (port) => new Promise((r) => { const c = createConnection(port, '127.0.0.1'); c.once('connect', () => (c.destroy(), r(true))); c.once('error', () => r(false)); });

// Azurite on a free port in a temp folder, stopped by PID at the end.
const dir = mkdtempSync(join(tmpdir(), 'aicert-bench-upload-'));
const port = await freePort();
const az = spawn(join(here, '..', 'node_modules/.bin/azurite-blob'), ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--skipApiVersionCheck', '--disableTelemetry', '--location', join(dir, 'az'), '--silent'], { stdio: 'ignore' });
try {
  for (let i = 0; i < 150 && !(await accepting(port)); i++) await new Promise((r) => setTimeout(r, 100));
  const accountUrl = `http://127.0.0.1:${port}/devstoreaccount1`;
  const conn = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};BlobEndpoint=${accountUrl};`;
  // One file of pseudo-random bytes (incompressible), written in 16 MiB pieces.
  const file = join(dir, 'weights.bin');
  const fd = openSync(file, 'w');
  const piece = Buffer.alloc(16 << 20);
  for (let left = MB << 20; left > 0; left -= piece.length) writeSync(fd, randomFillSync(piece), 0, Math.min(piece.length, left));
  closeSync(fd);
  const size = MB << 20;
  const svc = BlobServiceClient.fromConnectionString(conn);
  const cc = svc.getContainerClient('bench');
  await cc.createIfNotExists();
  const ref = parseContainerUrl(`${accountUrl}/bench`);

  const ours = async (i) => {
    const prefix = `ours-${i}/`;
    const s = await makeBlobSas(ref, { connectionString: conn }, prefix, ['weights.bin'], 3600_000);
    await uploadOutputs(ref.url, prefix, dir, [{ path: 'weights.bin', size, sha256: '0'.repeat(64) }], { parallel: 4, sasFor: (n) => `?${s.blobSas[n.slice(prefix.length)]}` });
  };
  const sdk = (opts) => async (i) => cc.getBlockBlobClient(`sdk-${i}-${opts.concurrency ?? 'd'}/weights.bin`).uploadFile(file, opts);
  const cases = [
    ['@azure/storage-blob uploadFile (8 MiB blocks, 4 parallel)', sdk({ blockSize: 8 << 20, concurrency: 4 })],
    ['@azure/storage-blob uploadFile (SDK defaults)', sdk({})],
    ['aicert runner uploader (8 MiB blocks, 4 parallel)', ours],
  ];
  const times = cases.map(() => []);
  // Interleaved rounds, so drift on a shared machine hits every case alike.
  for (let r = 0; r < ROUNDS; r++)
    for (const [k, [, fn]] of cases.entries()) {
      const t = performance.now();
      await fn(r);
      times[k].push(performance.now() - t);
    }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const base = med(times[0]);
  console.log(`  ${MB} MiB file to Azurite on 127.0.0.1, median of ${ROUNDS}`);
  for (const [k, [label]] of cases.entries()) {
    const m = med(times[k]);
    const mbps = size / 1e6 / (m / 1000);
    console.log(`  ${label.padEnd(58)} ${mbps.toFixed(0).padStart(5)} MB/s  ${(m / 1000).toFixed(2)} s${k ? `  ${(base / m).toFixed(2)}× the first line` : '  (baseline)'}`);
  }
} finally {
  const exited = new Promise((r) => az.once('exit', r));
  process.kill(az.pid, 'SIGTERM');
  await exited;
  rmSync(dir, { recursive: true, force: true });
}
