// Size budgets of the browser bundle (dist/browser/aicert.js) and the verifier page (dist/web/aicert-web.js): the build fails when it grows past the budget.
// Prints the minified and gzipped sizes. Budgets are in bytes; raise them only with a reason in the commit.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGETS = {
  'dist/browser/aicert.js': { min: 320_000, gzip: 122_000 },
  // the verifier page: the verifier, the Hub client and the page (src/web), one module
  'dist/web/aicert-web.js': { min: 290_000, gzip: 105_000 },
};
let over = false;
for (const [file, b] of Object.entries(BUDGETS)) {
  const buf = readFileSync(new URL(`../${file}`, import.meta.url));
  const gz = gzipSync(buf, { level: 9 }).length;
  const ok = buf.length <= b.min && gz <= b.gzip;
  over ||= !ok;
  console.log(`${ok ? 'ok  ' : 'OVER'} ${file}: ${buf.length} B minified (budget ${b.min}), ${gz} B gzipped (budget ${b.gzip})`);
}
if (over) process.exit(1);
