// Event-log sizes (spec/eventlog.md, "Event store"): parse + replay of 1, 10 and 50 MB TCG logs made of 16-byte events
// (the densest records; EV_SEPARATOR data that fails to decode), and `aicert-verify` on the demo AIBOM carrying a
// 59 MB boot event log (refused by the 4 MiB cap). Each case runs in a fresh process: wall time, time per MB and
// peak RSS against the log's size, beside the in-run baseline "read the same bytes + sha256" in a fresh process.
// AICERT_BENCH_DENSE_MB (default 1,10,50), AICERT_BENCH_BOOTLOG_MB (default 59), AICERT_DIST (default dist/).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { actionEventsLog, tinyEventsLog } from './gen-logs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.AICERT_DIST ?? join(here, '..', 'dist'));
const mbList = (v, d) => (v ?? d).split(',').filter(Boolean).map(Number);
const DENSE = mbList(process.env.AICERT_BENCH_DENSE_MB, '1,10,50');
const BOOT = mbList(process.env.AICERT_BENCH_BOOTLOG_MB, '59');
const MiB = 2 ** 20;

/** Wall seconds and peak RSS (MiB, from /usr/bin/time) of a command; its output is read and discarded. */
function measure(cmd, args) {
  return new Promise((res) => {
    const t = performance.now();
    const c = spawn('/usr/bin/time', ['-f', '%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    c.stdout.on('data', (d) => (out = (out + d).slice(0, 8192)));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => res({ s: (performance.now() - t) / 1000, mib: Number(/(\d+)\s*$/.exec(err.trim())?.[1] ?? NaN) / 1024, code, err: out + err }));
  });
}

const baseline = (f) => measure(process.execPath, ['-e', `require('node:crypto').createHash('sha256').update(require('node:fs').readFileSync(${JSON.stringify(f)})).digest('hex')`]);
const parseReplay = (f) =>
  measure(process.execPath, ['--input-type=module', '-e', `import { readFileSync } from 'node:fs'; const m = await import(${JSON.stringify(pathToFileURL(join(dist, 'eventlog', 'index.js')).href)}); m.replay(m.parseTcgLog(readFileSync(${JSON.stringify(f)})));`]);

/** One result line: time, time per MB, peak RSS and its ratio to the input's size, ratio to the baseline. */
function row(label, r, bytes, base) {
  const mb = bytes / 1e6;
  const vs = base ? `  ${(r.s / base.s).toFixed(1)}× baseline time, +${(r.mib - base.mib).toFixed(0)} MiB over it` : '';
  console.log(`  ${label.padEnd(34)} ${r.s.toFixed(2).padStart(7)} s ${((r.s / mb) * 1000).toFixed(0).padStart(6)} ms/MB  peak ${r.mib.toFixed(0).padStart(5)} MiB = ${(r.mib / (bytes / MiB)).toFixed(1).padStart(4)}× the input${vs}${r.code ? `  exit ${r.code}` : ''}`);
}

for (const mb of DENSE) {
  const f = join(tmpdir(), `aicert-bench-dense-${mb}MB.bin`);
  if (!existsSync(f)) writeFileSync(f, tinyEventsLog(mb * 1e6));
  const size = readFileSync(f).length;
  console.log(`${mb} MB of 16-byte events (${Math.floor(size / 16).toLocaleString('en-US')} events, ${f}):`);
  const base = await baseline(f);
  row('read + sha256 (baseline)', base, size);
  row('parseTcgLog + replay', await parseReplay(f), size, base);
}

// The demo AIBOM (valid quote and chain) with a large boot event log attached, as CBOR (JSON would exceed 64 MiB).
const demo = resolve(here, '..', 'testvectors', 'demo');
if (existsSync(join(demo, 'aibom.json'))) {
  const { aibomToCbor } = await import(pathToFileURL(join(dist, 'aibom', 'index.js')).href);
  const at = JSON.parse(readFileSync(join(demo, 'demo.json'), 'utf8')).verify_at;
  for (const mb of BOOT) {
    const f = join(tmpdir(), `aicert-bench-aibom-bootlog-${mb}MB.cbor`);
    if (!existsSync(f)) {
      const doc = JSON.parse(readFileSync(join(demo, 'aibom.json'), 'utf8'));
      doc.evidence.bootEventLog = actionEventsLog(mb).toString('base64');
      writeFileSync(f, aibomToCbor(doc));
    }
    const size = readFileSync(f).length;
    console.log(`demo AIBOM with a ${mb} MB boot event log (${(size / 1e6).toFixed(1)} MB CBOR, ${f}):`);
    const base = await baseline(f);
    row('read + sha256 (baseline)', base, size);
    const args = [join(dist, 'bin', 'aicert-verify.js'), f, '--trust-root', join(demo, 'trust-root.pem'), '--policy', join(demo, 'policy.json'), '--at', at];
    const r = await measure(process.execPath, args);
    row('aicert-verify (refused)', r, size, base);
    const why = /[^\n]*(larger than|mismatch|MISMATCH)[^\n]*/.exec(r.err)?.[0];
    if (why) console.log(`    ${why.trim().slice(0, 160)}`);
  }
} else console.log(`testvectors/demo/aibom.json not found: skipping the AIBOM boot-log case`);
