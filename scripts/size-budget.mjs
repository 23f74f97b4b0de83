// Size budget of the browser bundle (dist/browser/aicert.js): the build fails when it grows past the budget.
// Prints the minified and gzipped sizes. Budgets are in bytes; raise them only with a reason in the commit.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGETS = { 'dist/browser/aicert.js': { min: 320_000, gzip: 122_000 } };
let over = false;
for (const [file, b] of Object.entries(BUDGETS)) {
  const buf = readFileSync(new URL(`../${file}`, import.meta.url));
  const gz = gzipSync(buf, { level: 9 }).length;
  const ok = buf.length <= b.min && gz <= b.gzip;
  over ||= !ok;
  console.log(`${ok ? 'ok  ' : 'OVER'} ${file}: ${buf.length} B minified (budget ${b.min}), ${gz} B gzipped (budget ${b.gzip})`);
}
if (over) process.exit(1);
