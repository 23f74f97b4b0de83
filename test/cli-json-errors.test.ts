/** CLI contract: with --json, stdout carries exactly one JSON document on every path, error paths included. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'aicert-json-err-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

describe('--json on error paths', () => {
  const missing = join(dir, 'does-not-exist');
  const cases: [string, () => string[], number, string][] = [
    ['verify: unreadable attestation', () => ['verify', missing, '--json'], 2, 'MALFORMED_INPUT'],
    ['verify: unknown flag', () => ['verify', missing, '--bogus', '--json'], 2, 'USAGE'],
    ['verify: bad JSON', () => ['verify', file('bad.json', '{"quote": '), '--json'], 2, 'MALFORMED_INPUT'],
    ['quote: missing arguments', () => ['quote', '--json'], 2, 'USAGE'],
    ['quote: truncated TPMS_ATTEST', () => ['quote', '--ak', file('ak.bin', new Uint8Array([0, 1])), '--message', file('m.bin', new Uint8Array([0xff, 0x54])), '--signature', file('s.bin', new Uint8Array(2)), '--json'], 2, 'MALFORMED_INPUT'],
    ['eventlog: garbage', () => ['eventlog', file('garbage.bin', new Uint8Array(64).fill(0x41)), '--json'], 2, 'MALFORMED_INPUT'],
    ['hash: unreadable path', () => ['hash', missing, '--json'], 2, 'MALFORMED_INPUT'],
    ['predict: not a PE file', () => ['predict', '--uki', file('x.efi', 'MZ nope'), '--json'], 2, 'MALFORMED_INPUT'],
  ];
  test.each(cases)('%s: one JSON document naming the error, and the exit code', async (_n, argv, exit, code) => {
    const r = await runCli(argv());
    expect(r.code).toBe(exit);
    const doc = JSON.parse(r.out) as { valid?: boolean; code?: string; error: string | { code: string; message: string } };
    // quote keeps its report's shape ({valid, code, error: message, checks}); others carry an error object.
    const got = typeof doc.error === 'string' ? { code: doc.code, message: doc.error } : doc.error;
    expect(got.code).toBe(code);
    expect(got.message.length).toBeGreaterThan(0);
    if (argv()[0] === 'verify' || argv()[0] === 'quote') expect(doc.valid).toBe(false);
    // Diagnostics still go to stderr for people.
    expect(r.err).toContain(got.message.slice(0, 20));
  });

  test('a command that printed its report does not print a second document', async () => {
    const ok = await runCli(['eventlog', file('list.json', '["a","b"]'), '--json']);
    expect(ok.code).toBe(0);
    expect(() => JSON.parse(ok.out)).not.toThrow();
    // And the next command in the same process still reports its error as JSON.
    const bad = await runCli(['hash', missing, '--json']);
    expect(JSON.parse(bad.out).error.code).toBe('MALFORMED_INPUT');
  });

  test('finetune: a usage error before anything is created is a JSON report with exit 2', async () => {
    const r = await runCli(['finetune', '--config', missing, '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out) as { exit: number; verified: boolean };
    expect(doc.exit).toBe(2);
    expect(doc.verified).toBe(false);
  });

  test('without --json, error paths print nothing on stdout', async () => {
    const r = await runCli(['hash', missing]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });

  test('quote --pcrs: a plain concatenation whose first byte is "{" is read as PCR bytes, not as broken JSON', async () => {
    const q = join(import.meta.dirname, '..', 'testvectors', 'quote', 'ak-rsa');
    const args = ['quote', '--ak', join(q, 'ak.pub'), '--message', join(q, 'quote.msg'), '--signature', join(q, 'quote.sig'), '--nonce', readFileSync(join(q, 'nonce.hex'), 'utf8').trim(), '--json'];
    // Same length as the real 24 sha256 values, valid UTF-8, starting with '{': wrong values, so exit 1 (not 2).
    const fake = file('brace.bin', '{' + 'A'.repeat(24 * 32 - 1));
    const r = await runCli([...args, '--pcrs', fake]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).error.code).toBe('PCR_DIGEST_MISMATCH');
    // The real values still verify, and real JSON is still JSON.
    expect((await runCli([...args, '--pcrs', join(q, 'pcrs.values.bin')])).code).toBe(0);
    expect((await runCli([...args, '--pcrs', file('broken.json', '{"sha256": ')])).code).toBe(2);
  });
});
