// Event-log benchmark (build first: `npx tsup`): parse + replay of the largest shared vector and of a synthetic
// 100,000-event crypto-agile log, against an in-run baseline that does the same PCR extends with raw node:crypto.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeIt, fmt } from './lib.mjs';
import { parseTcgLog, replay } from '../dist/eventlog/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = process.env.AICERT_VECTORS ?? resolve(here, '../../shared/vectors');
const OSSL = { 4: 'sha1', 11: 'sha256', 12: 'sha384', 13: 'sha512' };

/** Baseline: the same extends (PCR = H(PCR || digest)) with node:crypto, from digests already in memory. */
function rawExtends(extendList) {
  const pcrs = new Map();
  for (const [alg, pcr, d] of extendList) {
    const k = alg * 32 + pcr;
    const cur = pcrs.get(k) ?? Buffer.alloc(d.length);
    pcrs.set(k, createHash(OSSL[alg]).update(cur).update(d).digest());
  }
  return pcrs;
}

/** A crypto-agile log (sha1 + sha256) with n EV_EFI_ACTION events spread over PCRs 0-9. */
function syntheticLog(n) {
  const spec = Buffer.concat([Buffer.from('Spec ID Event03\0', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 4, 0, 20, 0, 11, 0, 32, 0, 0])]);
  const first = Buffer.alloc(32);
  first.writeUInt32LE(3, 4);
  first.writeUInt32LE(spec.length, 28);
  const parts = [first, spec];
  for (let i = 0; i < n; i++) {
    const data = Buffer.from(`synthetic event ${i}`);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(i % 10, 0);
    head.writeUInt32LE(0x80000007, 4);
    head.writeUInt32LE(2, 8);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(data.length, 0);
    parts.push(head, Buffer.from([4, 0]), createHash('sha1').update(data).digest(), Buffer.from([11, 0]), createHash('sha256').update(data).digest(), len, data);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** The extends a log implies (for the baseline), taken from the parsed events. */
const extendsOf = (log) => log.events.filter((e) => !e.noExtend && e.pcr <= 23).flatMap((e) => e.digests.filter((d) => OSSL[d.alg]).map((d) => [d.alg, e.pcr, d.digest]));

/** Times parse+replay (with and without decoding) against the baseline and prints ratio lines. */
async function bench(label, bytes, iterations) {
  const log = parseTcgLog(bytes);
  const ext = extendsOf(log);
  const skipped = log.banks.filter((b) => !OSSL[b]);
  const base = await timeIt(() => rawExtends(ext), { iterations, warmup: Math.ceil(iterations / 10) });
  const full = await timeIt(() => replay(parseTcgLog(bytes)), { iterations, warmup: Math.ceil(iterations / 10) });
  const nodec = await timeIt(() => replay(parseTcgLog(bytes, { decode: false })), { iterations, warmup: Math.ceil(iterations / 10) });
  const parse = await timeIt(() => parseTcgLog(bytes), { iterations, warmup: Math.ceil(iterations / 10) });
  const n = log.events.length;
  const eps = (r) => `${Math.round(n / (r.median / 1000)).toLocaleString('en-US')} events/s`;
  console.log(`${label}: ${n} events, ${bytes.length} bytes, banks ${log.banks.join(',')}${skipped.length ? ` (baseline skips alg ${skipped})` : ''}`);
  console.log(`  baseline node:crypto extends (${ext.length})  ${fmt(base.median).padStart(10)}  ${eps(base)}`);
  console.log(`  parse+decode+replay                ${fmt(full.median).padStart(10)}  ${eps(full)}  ratio ${(full.median / base.median).toFixed(2)}x baseline`);
  console.log(`  parse+replay (decode off)          ${fmt(nodec.median).padStart(10)}  ${eps(nodec)}  ratio ${(nodec.median / base.median).toFixed(2)}x baseline`);
  console.log(`  parse only (with decode)           ${fmt(parse.median).padStart(10)}  ${eps(parse)}`);
}

// Largest shared vector by event count (TCG logs only).
if (existsSync(vectors)) {
  let best;
  let bestSha;
  for (const d of readdirSync(vectors).filter((x) => statSync(join(vectors, x)).isDirectory())) {
    for (const f of readdirSync(join(vectors, d))) {
      const p = join(vectors, d, f);
      if (/\.(yaml|json|warn|pem)$/.test(f) || !statSync(p).isFile()) continue;
      try {
        const b = new Uint8Array(readFileSync(p));
        const n = parseTcgLog(b, { decode: false }).events.length;
        const log = parseTcgLog(b, { decode: false });
        if (!best || n > best.n) best = { n, p, b };
        if (log.banks.every((a) => OSSL[a]) && (!bestSha || n > bestSha.n)) bestSha = { n, p, b };
      } catch {
        /* not a TCG log */
      }
    }
  }
  if (best) await bench(`largest vector ${best.p.slice(vectors.length + 1)} (its SM3 bank is pure JS, not in the baseline)`, best.b, 300);
  if (bestSha && bestSha !== best) await bench(`largest SHA-only vector ${bestSha.p.slice(vectors.length + 1)}`, bestSha.b, 300);
} else console.log(`shared vectors not found at ${vectors}: skipping the vector benchmark`);

await bench('synthetic 100,000-event log', syntheticLog(100_000), 5);
