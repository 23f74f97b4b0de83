// Many small files: 10,000 × 4 KiB in 100 folders, whole-file SHA-256 of the folder, against
// `find | xargs sha256sum` and `find | xargs openssl dgst -sha256` in the same run; also pinned to one CPU (taskset),
// and the folder walk alone (µs per file). Each whole-process row also gives its CPU time (user+sys) against openssl's. Uses dist/ (build first; AICERT_DIST=<dir> points elsewhere).
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childCpuMs } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.AICERT_DIST ?? join(here, '..', 'dist'));
const N = 10_000;
const DIR = join(tmpdir(), 'aicert-bench-10k-4KiB');
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// 1. the files, made once
if (!existsSync(join(DIR, '099', `${N - 1}.bin`))) {
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < N; i++) {
    const d = join(DIR, String(i % 100).padStart(3, '0'));
    if (i < 100) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `${i}.bin`), randomFillSync(buf));
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
/** Median wall ms of a whole process over `runs` runs (one warm-up). */
function proc(cmd, args, runs = 5) {
  const t = [];
  for (let i = 0; i <= runs; i++) {
    const s = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status} ${r.stderr}`);
    if (i > 0) t.push(performance.now() - s);
  }
  return med(t);
}
const cli = join(dist, 'bin', 'aicert.js');
const row = (label, ms, base, cpu) => console.log(`  ${label.padEnd(50)} ${ms.toFixed(0).padStart(6)} ms  ${((ms * 1000) / N).toFixed(1).padStart(6)} µs/file${base ? `  ${(ms / base).toFixed(2)}× openssl` : ''}${cpu ? `  cpu ${cpu[0].toFixed(0)} ms${cpu[1] ? ` ${(cpu[0] / cpu[1]).toFixed(2)}× openssl` : ''}` : ''}`);

for (const pin of have('taskset') ? [undefined, '0'] : [undefined]) {
  const wrap = (cmd, args) => (pin === undefined ? [cmd, args] : ['taskset', ['-c', pin, cmd, ...args]]);
  console.log(pin === undefined ? `10,000 × 4 KiB files, ${DIR}, whole process:` : 'pinned to one CPU (taskset -c 0):');
  const ossl = wrap('sh', ['-c', `find "${DIR}" -type f -print0 | xargs -0 openssl dgst -sha256 -r`]);
  const base = proc(...ossl);
  const baseCpu = childCpuMs(...ossl, 5);
  row('find | xargs openssl dgst -sha256 (baseline)', base, undefined, [baseCpu]);
  row('find | xargs sha256sum', proc(...wrap('sh', ['-c', `find "${DIR}" -type f -print0 | xargs -0 sha256sum`])), base);
  const ours = wrap(process.execPath, [cli, 'hash', DIR]);
  row('aicert hash DIR', proc(...ours), base, [childCpuMs(...ours, 5), baseCpu]);
}

// 2. in-process: the walk alone and hashPaths (library callers)
const { walkPaths, hashPaths } = await import(pathToFileURL(join(dist, 'node', 'hashing.js')).href);
const inproc = async (fn) => {
  const t = [];
  for (let i = 0; i < 6; i++) {
    const s = performance.now();
    await fn();
    if (i > 0) t.push(performance.now() - s);
  }
  return med(t);
};
console.log('in-process:');
row('walkPaths(DIR) (walk only)', await inproc(() => walkPaths([DIR])));
row('hashPaths(DIR)', await inproc(() => hashPaths([DIR])));
row('hashPaths(DIR), workers: 1', await inproc(() => hashPaths([DIR], { workers: 1 })));
