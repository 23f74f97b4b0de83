// Tiny benchmark helpers: median timings over repeated runs, printed as ratios against a baseline.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** Median of per-iteration times (ms) of an async or sync function, after warm-up. */
export async function timeIt(fn, { iterations = 200, warmup = 20 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const t = [];
  for (let i = 0; i < iterations; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1] };
}

/** Formats a duration in ms with a sensible unit. */
export function fmt(ms) {
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
}

/** Prints one result line with its ratio to the baseline. */
export function line(label, r, baseline) {
  const ratio = baseline ? `  ${(baseline.median / r.median).toFixed(1)}× faster than baseline` : '  (baseline)';
  console.log(`  ${label.padEnd(52)} ${fmt(r.median).padStart(10)}  [${fmt(r.min)} – ${fmt(r.max)}]${ratio}`);
}

const shQuote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
/**
 * CPU ms per run of a whole command (its processes' user+sys, summed over `runs` runs by the shell's `times`):
 * steadier than wall time on a shared machine. Output is discarded.
 */
export function childCpuMs(cmd, args, runs) {
  const line = [cmd, ...args].map(shQuote).join(' ');
  const r = spawnSync('sh', ['-c', `i=0; while [ $i -lt ${runs} ]; do ${line} >/dev/null 2>&1; i=$((i+1)); done; times`], { encoding: 'utf8' });
  const children = r.stdout.trim().split('\n')[1] ?? '';
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return ((secs[0] ?? NaN) + (secs[1] ?? NaN)) * 1000 / runs;
}
