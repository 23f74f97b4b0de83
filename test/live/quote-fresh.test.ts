// Live: generates fresh swtpm quotes with testvectors/gen-quote.sh and verifies every case with aicert.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe } from 'vitest';
import { quoteCaseTests } from '../helpers/quote-cases.js';
import { swtpmAvailable } from '../helpers/swtpm.js';

const repo = resolve(import.meta.dirname, '../..');
let tmp = '';

describe.skipIf(!swtpmAvailable())('fresh swtpm quotes verified by aicert', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'aicert-fresh-quote-'));
    await promisify(execFile)('bash', [join(repo, 'testvectors/gen-quote.sh'), join(tmp, 'out')], { cwd: repo, timeout: 170_000 });
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });
  quoteCaseTests(() => join(tmp, 'out'));
});
