// `npm run bench`: runs every benchmark against dist/ (build first) and prints ratios to in-run baselines
// (openssl/sha256sum, node:crypto, bare `node -e ''`, tpm2_checkquote, tpm2_eventlog where installed) and scaling:
// outputs (1k, 24k, 100k: µs/output), small files (10k × 4 KiB: µs/file), event logs (1, 10, 50 MB: ms/MB,
// memory; 16-byte-event logs and a 59 MB AIBOM boot log in eventlog-sizes).
// `npm run bench -- NAME` runs the benchmarks whose file name contains NAME. Not part of `npm test`.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, '..', 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const only = process.argv[2];
let failed = 0;
for (const f of readdirSync(here).filter((n) => n.endsWith('.bench.mjs')).sort()) {
  if (only && !f.includes(only)) continue;
  console.log(`\n## ${f.replace('.bench.mjs', '')}`);
  const r = spawnSync(process.execPath, [join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
