// Weights at disk speed: aicert SHA-256 vs `openssl dgst -sha256` on the same 2 GiB file, in the same run.
// Targets (issue 4): single-stream >= 1.0x openssl, sharded with 2 workers >= 1.8x openssl. Also `aicert hash` cold start.
// Uses dist/ (build first; AICERT_DIST=<dir> points elsewhere). AICERT_BENCH_FILE picks the file, AICERT_BENCH_KEEP=1
// keeps a file this script created, AICERT_BENCH_ROUNDS sets rounds (default 5), AICERT_BENCH_STRICT=1 exits 1 on a miss.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.AICERT_DIST ?? join(here, '..', 'dist'));
const { hashFile, hashPaths, DEFAULT_SHARD_SIZE } = await import(pathToFileURL(join(dist, 'node', 'hashing.js')).href);
const SIZE = 2 * 1024 ** 3;
const FILE = process.env.AICERT_BENCH_FILE ?? join(tmpdir(), 'aicert-bench-2GiB.bin');
const ROUNDS = Number(process.env.AICERT_BENCH_ROUNDS ?? 5);
const created = [];

// 1. the 2 GiB random file, made only if it is not there
if (!existsSync(FILE) || statSync(FILE).size !== SIZE) {
  if (existsSync(FILE)) throw new Error(`${FILE} exists with another size; remove it or set AICERT_BENCH_FILE`);
  console.log(`  creating ${FILE} (2 GiB random)`);
  const fd = openSync(FILE, 'wx');
  created.push(FILE);
  const buf = Buffer.allocUnsafe(64 * 1024 * 1024);
  for (let off = 0; off < SIZE; off += buf.length) writeSync(fd, randomFillSync(buf));
  closeSync(fd);
}

// 2. warm the page cache (two full reads)
{
  const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
  for (let pass = 0; pass < 2; pass++) {
    const fd = openSync(FILE, 'r');
    while (readSync(fd, buf) > 0);
    closeSync(fd);
  }
}

/** Wall time of an async function, ms. */
async function timed(fn) {
  const t = performance.now();
  const v = await fn();
  return { ms: performance.now() - t, v };
}
const openssl = () => {
  const r = spawnSync('openssl', ['dgst', '-sha256', '-r', FILE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return r.stdout.slice(0, 64);
};

// 3. interleaved rounds so every approach sees the same machine state
const cases = {
  'openssl dgst -sha256': async () => openssl(),
  'aicert hashFile, 4 MiB reads (default)': async () => (await hashFile(FILE)).sha256,
  'aicert hashFile, 1 MiB reads': async () => (await hashFile(FILE, { highWaterMark: 1024 * 1024 })).sha256,
  'aicert sharded, 1 GiB shards, 2 workers': async () => (await hashPaths([FILE], { sharded: DEFAULT_SHARD_SIZE, workers: 2 }))[0].shards,
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
let reference;
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    const { ms, v } = await timed(fn);
    times[name].push(ms);
    // correctness: whole-file digests must equal openssl's (shard digests are checked against dd+openssl in the tests)
    if (name.startsWith('openssl')) reference = v;
    else if (typeof v === 'string' && v !== reference) throw new Error(`${name}: digest ${v} != openssl ${reference}`);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mbps = (ms) => SIZE / 1e3 / ms;
const base = med(times['openssl dgst -sha256']);
console.log(`  file ${FILE}, ${ROUNDS} rounds, page cache warm, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const [name, t] of Object.entries(times)) {
  const m = med(t);
  const ratio = base / m;
  console.log(`  ${name.padEnd(42)} ${mbps(m).toFixed(0).padStart(5)} MB/s  (${mbps(Math.max(...t)).toFixed(0)}–${mbps(Math.min(...t)).toFixed(0)})  ${ratio.toFixed(2)}× openssl`);
}
const single = base / med(times['aicert hashFile, 4 MiB reads (default)']);
const sharded = base / med(times['aicert sharded, 1 GiB shards, 2 workers']);
const verdict = (v, t) => (v >= t ? `met (${v.toFixed(2)}× ≥ ${t}×)` : `MISSED (${v.toFixed(2)}× < ${t}×)`);
console.log(`  target single-stream ≥ 1.0× openssl: ${verdict(single, 1.0)}`);
console.log(`  target sharded, 2 workers ≥ 1.8× openssl: ${verdict(sharded, 1.8)}`);

// 4. `aicert hash` cold start: a whole process hashing a tiny file, vs an empty node process
const tiny = join(tmpdir(), `aicert-bench-tiny-${process.pid}.txt`);
spawnSync('sh', ['-c', `printf abc > "${tiny}"`]);
created.push(tiny);
const cli = join(dist, 'bin', 'aicert.js');
const proc = (args) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status} ${r.stderr}`);
  return performance.now() - t;
};
const cold = { node: [], cli: [] };
for (let i = 0; i < 11; i++) {
  cold.node.push(proc(['-e', '']));
  cold.cli.push(proc([cli, 'hash', tiny]));
}
console.log(`  cold start: node -e '' ${med(cold.node).toFixed(0)} ms, \`aicert hash\` tiny file ${med(cold.cli).toFixed(0)} ms (median of 11)`);

// 5. the whole CLI on the 2 GiB file (what `aicert-verify --model` costs), median of 3
for (const args of [['hash', FILE], ['hash', '--sharded', FILE]]) {
  const t = [0, 1, 2].map(() => proc([cli, ...args]));
  console.log(`  \`aicert ${args.slice(0, -1).join(' ')}\` 2 GiB, whole process: ${mbps(med(t)).toFixed(0)} MB/s (${med(t).toFixed(0)} ms)`);
}

for (const f of created) if (f !== FILE || !process.env.AICERT_BENCH_KEEP) rmSync(f, { force: true });
if (process.env.AICERT_BENCH_STRICT && (single < 1.0 || sharded < 1.8)) process.exit(1);
