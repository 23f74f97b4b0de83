// The core's artifact path (verifyAibom `artifacts`, sha256Of): MB/s on 256 MiB in memory and in 4 MiB chunks,
// against node:crypto createHash on the same bytes in the same run. Uses dist/ (AICERT_DIST=<dir> points elsewhere).
import { createHash, randomFillSync } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.AICERT_DIST ?? join(here, '..', 'dist'));
const { sha256Of } = await import(pathToFileURL(join(dist, 'aibom', 'index.js')).href);
const SIZE = 256 * 1024 * 1024;
const buf = randomFillSync(Buffer.allocUnsafe(SIZE));
const chunks = Array.from({ length: SIZE / (4 << 20) }, (_, i) => buf.subarray(i * (4 << 20), (i + 1) * (4 << 20)));
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rounds = async (fn, n = 5) => {
  const t = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return med(t);
};
const want = createHash('sha256').update(buf).digest('hex');
if ((await sha256Of(buf)) !== want) throw new Error('sha256Of disagrees with node:crypto');
const base = await rounds(() => createHash('sha256').update(buf).digest());
const mbps = (ms) => (SIZE / 1e3 / ms).toFixed(0);
console.log(`  node:crypto createHash, 256 MiB in memory (baseline)   ${mbps(base).padStart(5)} MB/s`);
const one = await rounds(() => sha256Of(buf));
console.log(`  sha256Of(Uint8Array)                                   ${mbps(one).padStart(5)} MB/s  ${(base / one).toFixed(2)}× baseline`);
const it = await rounds(() => sha256Of(chunks));
console.log(`  sha256Of(4 MiB chunks)                                 ${mbps(it).padStart(5)} MB/s  ${(base / it).toFixed(2)}× baseline`);
