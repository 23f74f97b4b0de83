/**
 * One JSON shape (spec/cli.md §JSON): every command's --json output, on every exit path, validates against
 * spec/cli.schema.json, and a document carries the `error` object exactly when the exit code is not 0.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers/cli.js';

const root = resolve(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(root, 'spec/cli.schema.json'), 'utf8'));
const ajv = new Ajv2020({ strict: true, strictRequired: false, strictTypes: false, allErrors: true });
const validateRoot = ajv.compile(schema);
const dir = mkdtempSync(join(tmpdir(), 'aicert-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const D = (f: string) => join(root, 'testvectors/demo', f);
const Q = (f: string) => join(root, 'testvectors/quote/ak-ecc', f);
const nonce = () => readFileSync(Q('nonce.hex'), 'utf8').trim();
const missing = join(dir, 'absent');
const demo = ['verify', D('aibom.json'), '--trust-root', D('trust-root.pem'), '--policy', D('policy.json')];
const quote = () => ['quote', '--ak', Q('ak.pub'), '--message', Q('quote.msg'), '--signature', Q('quote.sig'), '--pcrs', Q('quote.pcrs')];

/** [name, schema definition, argv, expected exit, expected error code or undefined] */
const CASES: [string, string, () => string[], number, string | undefined][] = [
  ['verify: valid with weights', 'verify', () => [...demo, '--model', D('weights')], 0, undefined],
  ['verify: untrusted root', 'verify', () => ['verify', D('aibom.json'), '--policy', D('policy.json')], 1, 'CERT_UNTRUSTED_ROOT'],
  ['verify: platform not checked', 'verify', () => ['verify', D('attestation.json'), '--trust-root', D('trust-root.pem')], 1, 'UNCHECKED'],
  ['verify: a file that is not bound', 'verify', () => [...demo, '--model', file('w.bin', 'nope')], 1, 'ARTIFACT_MISMATCH'],
  ['verify: wrong nonce', 'verify', () => [...demo, '--nonce', '00'], 1, 'NONCE_MISMATCH'],
  ['verify: malformed document', 'verify', () => ['verify', file('bad.json', '{"a": '), '--trust-root', D('trust-root.pem')], 2, 'MALFORMED_INPUT'],
  ['verify: unreadable model path', 'verify', () => [...demo, '--model', missing], 2, 'MALFORMED_INPUT'],
  ['verify: unknown flag', 'verify', () => ['verify', D('aibom.json'), '--bogus'], 2, 'USAGE'],
  ['quote: valid', 'quote', () => [...quote(), '--nonce', nonce()], 0, undefined],
  ['quote: wrong nonce', 'quote', () => [...quote(), '--nonce', '00'], 1, 'NONCE_MISMATCH'],
  ['quote: AK certificate without its chain, judged at --at', 'quote', () => ['quote', '--ak', Q('ak.crt.pem'), '--message', Q('quote.msg'), '--signature', Q('quote.sig'), '--at', '2200-01-01T00:00:00Z'], 1, 'CERT_EXPIRED'],
  ['quote: missing flags', 'quote', () => ['quote'], 2, 'USAGE'],
  ['quote: truncated attest', 'quote', () => ['quote', '--ak', Q('ak.pub'), '--message', file('m.bin', new Uint8Array([0xff, 0x54])), '--signature', Q('quote.sig')], 2, 'MALFORMED_INPUT'],
  ['eventlog: parsed', 'eventlog', () => ['eventlog', file('l.json', '["a","b"]')], 0, undefined],
  ['eventlog: garbage', 'errorOnly', () => ['eventlog', file('g.bin', new Uint8Array(64).fill(0x41))], 2, 'MALFORMED_INPUT'],
  ['hash: files', 'hash', () => ['hash', D('weights')], 0, undefined],
  ['hash: unreadable', 'errorOnly', () => ['hash', missing], 2, 'MALFORMED_INPUT'],
  ['hash --check: all OK', 'hashCheck', () => ['hash', '--check', file('ok.sums', sums())], 0, undefined],
  ['hash --check: a mismatch and a missing file', 'hashCheck', () => ['hash', '--check', file('bad.sums', `${'0'.repeat(64)}  ${D('weights/finetuned-model.zip')}\n${'1'.repeat(64)}  ${missing}\n`)], 1, 'ARTIFACT_MISMATCH'],
  ['hash --check: not a checksum file', 'errorOnly', () => ['hash', '--check', file('x.sums', 'hello\n')], 2, 'MALFORMED_INPUT'],
  ['predict: not a PE file', 'errorOnly', () => ['predict', '--uki', file('x.efi', 'MZ nope')], 2, 'MALFORMED_INPUT'],
  ['credential: missing flags', 'errorOnly', () => ['credential'], 2, 'USAGE'],
  ['finetune: config not found', 'finetune', () => ['finetune', '--config', missing], 2, undefined],
  ['unknown command', 'errorOnly', () => ['frobnicate'], 2, 'USAGE'],
];

/** A checksum file of the demo weights written by coreutils sha256sum (an independent tool). */
const sums = (): string => execFileSync('sha256sum', [D('weights/finetuned-model.zip'), D('weights/lora-out/adapter_config.json')], { encoding: 'utf8' });

describe('every command, every exit path: one JSON document valid against spec/cli.schema.json', () => {
  test.each(CASES)('%s', async (_n, def, argv, exit, code) => {
    const r = await runCli([...argv(), '--json']);
    expect(r.code, r.err).toBe(exit);
    const doc = JSON.parse(r.out);
    const v = ajv.getSchema(`https://aicert.dev/spec/cli.schema.json#/$defs/${def}`)!;
    expect(v(doc), JSON.stringify(v.errors)).toBe(true);
    expect(validateRoot(doc), JSON.stringify(validateRoot.errors)).toBe(true);
    if (!Array.isArray(doc)) {
      expect('error' in doc).toBe(exit !== 0);
      if (code) expect(doc.error.code).toBe(code);
    }
  });

  test('--version prints the package version and exits 0, for both bins', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const argv of [['--version'], ['verify', '--version'], ['hash', '--version']]) {
      const r = await runCli(argv);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`aicert ${pkg.version}\n`);
    }
  });

  test('usage errors name the flag, what was expected, and --help; each command has help with an example', async () => {
    const r = await runCli(['quote', '--ak']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/option --ak needs a value \(--ak FILE\)/);
    expect(r.err).toMatch(/Run 'aicert quote --help'/);
    expect((await runCli(['verify', 'x', '--bogus'])).err).toMatch(/unknown option --bogus/);
    for (const cmd of ['verify', 'quote', 'hash']) {
      const h = await runCli([cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.out).toMatch(/Example/);
    }
  });
});
