// `aicert eventlog` on synthetic crypto-agile logs of 1, 10 and 50 MB (sha1 + sha256, EV_EFI_ACTION events of
// about 100 bytes), JSON and text, through a pipe: wall time per MB and peak memory against the log's size, beside
// `tpm2_eventlog` on the same file where installed. Peak memory from /proc (the child's VmHWM via `wait4` rusage).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.AICERT_DIST ?? join(here, '..', 'dist'));
const cli = join(dist, 'bin', 'aicert.js');
const SIZES = (process.env.AICERT_BENCH_LOG_MB ?? '1,10,50').split(',').map(Number);
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A crypto-agile TCG log of about `mb` MB. */
function makeLog(mb) {
  const spec = Buffer.concat([Buffer.from('Spec ID Event03\0', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 4, 0, 20, 0, 11, 0, 32, 0, 0])]);
  const first = Buffer.alloc(32);
  first.writeUInt32LE(3, 4);
  first.writeUInt32LE(spec.length, 28);
  const parts = [first, spec];
  let size = first.length + spec.length;
  for (let i = 0; size < mb * 1e6; i++) {
    const data = Buffer.from(`synthetic event ${i}`);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(i % 10, 0);
    head.writeUInt32LE(0x80000007, 4);
    head.writeUInt32LE(2, 8);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(data.length, 0);
    const ev = [head, Buffer.from([4, 0]), createHash('sha1').update(data).digest(), Buffer.from([11, 0]), createHash('sha256').update(data).digest(), len, data];
    for (const p of ev) (parts.push(p), (size += p.length));
  }
  return Buffer.concat(parts);
}

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
  if (!existsSync(f)) writeFileSync(f, makeLog(mb));
  console.log(`${mb} MB log (${f}):`);
  const row = (label, r) => console.log(`  ${label.padEnd(36)} ${r.s.toFixed(2).padStart(7)} s  ${(r.s / mb * 1000).toFixed(0).padStart(5)} ms/MB  peak ${r.mib.toFixed(0).padStart(5)} MiB = ${(r.mib / (mb * 1e6 / 2 ** 20)).toFixed(1)}× the log${r.code ? `  exit ${r.code}` : ''}`);
  let base;
  if (have('tpm2_eventlog')) row('tpm2_eventlog (baseline)', (base = await measure('tpm2_eventlog', [f])));
  const j = await measure(process.execPath, [cli, 'eventlog', '--json', f]);
  row('aicert eventlog --json', j);
  const t = await measure(process.execPath, [cli, 'eventlog', f]);
  row('aicert eventlog (text, through a pipe)', t);
  if (base) console.log(`  ratio to tpm2_eventlog: --json ${(j.s / base.s).toFixed(2)}× time, text ${(t.s / base.s).toFixed(2)}× time`);
}
