// `aicert eventlog` on synthetic crypto-agile logs of 1, 10 and 50 MB (sha1 + sha256, EV_EFI_ACTION events of about
// 100 bytes; AICERT_BENCH_LOG_MB=150 for the large case), JSON and text, through a pipe: wall time per MB and peak RSS
// (from /usr/bin/time) against the log's size, beside two in-run baselines on the same file: node reading it and
// hashing it with sha256, and `tpm2_eventlog` where installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { actionEventsLog } from './gen-logs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.AICERT_DIST ?? join(here, '..', 'dist'));
const cli = join(dist, 'bin', 'aicert.js');
const SIZES = (process.env.AICERT_BENCH_LOG_MB ?? '1,10,50').split(',').map(Number);
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Wall seconds and peak RSS (MiB) of a command whose stdout goes through a pipe that is read and discarded. */
function measure(cmd, args) {
  return new Promise((res) => {
    const t = performance.now();
    const c = spawn('/usr/bin/time', ['-f', '%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let bytes = 0;
    c.stdout.on('data', (d) => (bytes += d.length));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => {
      const kb = Number(/(\d+)\s*$/.exec(err.trim())?.[1] ?? NaN);
      res({ s: (performance.now() - t) / 1000, mib: kb / 1024, code, bytes });
    });
  });
}

for (const mb of SIZES) {
  const f = join(tmpdir(), `aicert-bench-log-${mb}MB.bin`);
  if (!existsSync(f)) writeFileSync(f, actionEventsLog(mb));
  console.log(`${mb} MB log (${f}):`);
  const row = (label, r) => console.log(`  ${label.padEnd(36)} ${r.s.toFixed(2).padStart(7)} s  ${(r.s / mb * 1000).toFixed(0).padStart(5)} ms/MB  peak ${r.mib.toFixed(0).padStart(5)} MiB = ${(r.mib / (mb * 1e6 / 2 ** 20)).toFixed(1)}× the log${r.code ? `  exit ${r.code}` : ''}`);
  // In-run baselines: node reading the same bytes and hashing them, and tpm2-tools printing the same log.
  const sha = await measure(process.execPath, ['-e', `require('node:crypto').createHash('sha256').update(require('node:fs').readFileSync(${JSON.stringify(f)})).digest('hex')`]);
  row('node read + sha256 (baseline)', sha);
  let base;
  if (have('tpm2_eventlog')) row('tpm2_eventlog (baseline)', (base = await measure('tpm2_eventlog', [f])));
  const j = await measure(process.execPath, [cli, 'eventlog', '--json', f]);
  row('aicert eventlog --json', j);
  const t = await measure(process.execPath, [cli, 'eventlog', f]);
  row('aicert eventlog (text, through a pipe)', t);
  const over = (r) => `${((r.mib - sha.mib) / (mb * 1e6 / 2 ** 20)).toFixed(1)}×`;
  console.log(`  memory above the read+sha256 process, per log size: --json ${over(j)}, text ${over(t)}`);
  if (base) console.log(`  ratio to tpm2_eventlog: --json ${(j.s / base.s).toFixed(2)}× time ${(j.mib / base.mib).toFixed(1)}× RSS, text ${(t.s / base.s).toFixed(2)}× time ${(t.mib / base.mib).toFixed(1)}× RSS`);
}
