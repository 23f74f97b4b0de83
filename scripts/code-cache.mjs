// Writes the V8 code cache of each CLI command bundle (dist/bin/cmd-NAME.cjs.cache; run by `npm run build` after
// scripts/build-bin.mjs). Each command runs once on a shipped vector (or with --help) with AICERT_CODE_CACHE_OUT set,
// and the launcher writes what V8 compiled during that run; src/cli/bundle-loader.ts checks a cache before use and
// falls back to compiling from source when it is missing, stale, damaged or made by another Node version.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `node scripts/code-cache.mjs [BIN]`: BIN defaults to dist/bin.
const bin = resolve(process.argv[2] ?? join(root, 'dist', 'bin'));
const demo = (f) => join(root, 'testvectors', 'demo', f);
const q = (f) => join(root, 'testvectors', 'quote', 'ak-rsa', f);
const log = join(root, 'testvectors', 'boot', 'out', 'binary_bios_measurements');

// The verification commands, whose start-up is measured, get a cache from a representative run. The others compile
// from source: the cloud and runner commands wait on networks and VMs far longer than they compile, and a cache made
// from --help alone saves little, while every cache adds to the package.
const RUNS = {
  verify: ['verify', demo('aibom.json'), '--trust-root', demo('trust-root.pem'), '--policy', demo('policy.json'), '--model', demo('weights')],
  quote: ['quote', '--ak', q('ak.pub'), '--message', q('quote.msg'), '--signature', q('quote.sig'), '--pcrs', q('quote.pcrs')],
  hash: ['hash', demo('weights')],
  ...(existsSync(log) ? { eventlog: ['eventlog', log] } : {}),
};

for (const f of readdirSync(bin).filter((n) => n.endsWith('.cache'))) unlinkSync(join(bin, f));
for (const file of readdirSync(bin).filter((n) => /^cmd-.*\.cjs$/.test(n))) {
  const name = file.slice(4, -4);
  const argv = RUNS[name];
  if (!argv) continue;
  const r = spawnSync(process.execPath, [join(bin, 'aicert.js'), ...argv], { env: { ...process.env, AICERT_CODE_CACHE_OUT: join(bin, `${file}.cache`) }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  // A workload that fails still leaves a usable cache; a cache that was not written is only slower.
  if (!existsSync(join(bin, `${file}.cache`))) console.warn(`code-cache: no cache for ${file} (exit ${r.status}) ${r.stderr.slice(0, 300)}`);
}
console.log(`code-cache: ${readdirSync(bin).filter((n) => n.endsWith('.cache')).length} caches in ${bin}`);
