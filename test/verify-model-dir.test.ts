// `aicert-verify --model DIR`: the directory stands for the whole model, so a bound file deleted from it fails.
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { run } from '../src/cli/cmd-verify.js';
import { captureStdout } from './helpers/quote-cases.js';

const demo = resolve(import.meta.dirname, '..', 'testvectors', 'demo');
const tmp = mkdtempSync(join(tmpdir(), 'aicert-model-dir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const args = (model: string) => [join(demo, 'aibom.json'), '--trust-root', join(demo, 'trust-root.pem'), '--policy', join(demo, 'policy.json'), '--model', model, '--json'];

test('complete directory verifies; a deleted, added or altered file fails', async () => {
  const dir = join(tmp, 'weights');
  cpSync(join(demo, 'weights'), dir, { recursive: true });
  expect((await captureStdout(() => run(args(dir)))).code).toBe(0);
  // Remove one bound file (the zip at the top level).
  const victim = readdirSync(dir).find((n) => statSync(join(dir, n)).isFile())!;
  rmSync(join(dir, victim));
  const missing = await captureStdout(() => run(args(dir)));
  expect(missing.code).toBe(1);
  expect(JSON.parse(missing.out).checks.find((c: { id: string }) => c.id === 'artifacts').ok).toBe(false);
  // A planted extra file fails too.
  cpSync(join(demo, 'weights'), dir, { recursive: true });
  writeFileSync(join(dir, 'planted.bin'), 'x');
  expect((await captureStdout(() => run(args(dir)))).code).toBe(1);
});
