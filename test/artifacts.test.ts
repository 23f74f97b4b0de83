// verifyArtifacts (OMS-style matched/missing/extra/mismatched report) and hub-mode LFS comparison.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { compareLfs, normalizeLfsDigest, verifyArtifacts, type ExpectedArtifact } from '../src/node/artifacts.js';

let dir: string;
let model: string;
/** name -> sha256 from coreutils, and the bound list built from it. */
const sums: Record<string, string> = {};
let bound: ExpectedArtifact[];

/** Runs a shell command and returns stdout. */
const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicert-art-'));
  model = join(dir, 'model');
  mkdirSync(join(model, 'tok'), { recursive: true });
  writeFileSync(join(model, 'adapter.bin'), randomBytes(300_000));
  writeFileSync(join(model, 'config.json'), '{"r":8}');
  writeFileSync(join(model, 'tok', 'vocab.txt'), 'a\nb\n');
  // expected digests from sha256sum, in its own output format
  for (const line of sh(`cd "${model}" && find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum`).trim().split('\n')) {
    const [hex, name] = line.split(/\s+\*?/);
    sums[name!] = hex!;
  }
  bound = Object.entries(sums).map(([name, sha256]) => ({ name, digest: { sha256 } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verifyArtifacts', () => {
  test('a directory that matches every bound file is ok', async () => {
    const r = await verifyArtifacts(bound, [model]);
    expect(r.ok).toBe(true);
    expect(r.requireAll).toBe(true);
    expect(r.matched.map((m) => m.name)).toEqual(['adapter.bin', 'config.json', 'tok/vocab.txt']);
    expect(r.matched[0]!.digest).toBe(sums['adapter.bin']);
    expect([r.missing, r.extra, r.mismatched]).toEqual([[], [], []]);
  });

  test('a tampered file is mismatched with both digests; an extra file fails; a missing file fails for a directory', async () => {
    const m2 = join(dir, 'm2');
    sh(`cp -r "${model}" "${m2}" && printf x >> "${m2}/config.json" && echo hi > "${m2}/planted.py" && rm "${m2}/tok/vocab.txt"`);
    const r = await verifyArtifacts(bound, [m2]);
    expect(r.ok).toBe(false);
    expect(r.mismatched).toEqual([{ name: 'config.json', path: `${m2}/config.json`, algorithm: 'sha256', expected: sums['config.json'], actual: sh(`sha256sum "${m2}/config.json"`).slice(0, 64) }]);
    expect(r.extra).toEqual([{ name: 'planted.py', path: `${m2}/planted.py` }]);
    expect(r.missing).toEqual(['tok/vocab.txt']);
    expect(r.matched.map((m) => m.name)).toEqual(['adapter.bin']);
  });

  test('single files: checked by basename, missing files do not fail unless requireAll', async () => {
    const one = await verifyArtifacts(bound, [join(model, 'adapter.bin')]);
    expect(one.ok).toBe(true);
    expect(one.requireAll).toBe(false);
    expect(one.missing).toEqual(['config.json', 'tok/vocab.txt']);
    expect((await verifyArtifacts(bound, [join(model, 'adapter.bin')], { requireAll: true })).ok).toBe(false);
    // explicit names for nested bound files, and a name prefix for a directory
    const named = await verifyArtifacts(bound, [{ path: join(model, 'tok', 'vocab.txt'), name: 'tok/vocab.txt' }, { path: join(model, 'tok'), name: 'tok2' }]);
    expect(named.matched.map((m) => m.name)).toEqual(['tok/vocab.txt']);
    // the folder reaches the same physical file again under another name: that name is judged too (unbound: extra)
    expect(named.extra.map((x) => x.name)).toEqual(['tok2/vocab.txt']);
    expect(named.ok).toBe(false); // a folder was given, so the other bound files are missing
  });

  test('nothing given is never ok', async () => {
    expect((await verifyArtifacts(bound, [])).ok).toBe(false);
  });

  test('sharded digests are used when no sha256 is bound (or when preferred)', async () => {
    const S = 65536;
    const f = join(model, 'adapter.bin');
    const root = sh(`F="${f}"; S=${S}; L=$(stat -c %s "$F"); { printf 'aicert-sharded-sha256\\0'; printf '%016x%016x' $S $L | xxd -r -p; for i in $(seq 0 $(( (L+S-1)/S - 1 ))); do dd if="$F" bs=$S skip=$i count=1 status=none | openssl dgst -sha256 -binary; done; } | openssl dgst -sha256 -r`).slice(0, 64);
    const alg = `aicert-sharded-sha256-${S}`;
    const r = await verifyArtifacts([{ name: 'adapter.bin', digest: { [alg]: root } }], [f], { workers: 2 });
    expect(r.ok).toBe(true);
    expect(r.matched[0]!.algorithm).toBe(alg);
    const both = [{ name: 'adapter.bin', digest: { sha256: sums['adapter.bin']!, [alg]: '0'.repeat(64) } }];
    expect((await verifyArtifacts(both, [f])).ok).toBe(true); // auto: sha256 wins
    expect((await verifyArtifacts(both, [f], { algorithm: 'sharded' })).mismatched[0]!.algorithm).toBe(alg);
  });

  test('malformed bound lists: .., absolute, duplicates, bad hex, no supported digest', async () => {
    const d = { sha256: '0'.repeat(64) };
    for (const exp of [
      [{ name: '../x', digest: d }],
      [{ name: '/abs', digest: d }],
      [{ name: 'a', digest: d }, { name: 'a', digest: d }],
      [{ name: 'a', digest: { sha256: 'xyz' } }],
      [{ name: 'a', digest: { sha512: '0'.repeat(128) } }],
      [{ name: 'a', digest: { 'aicert-sharded-sha256-1': '0'.repeat(64) } }],
    ]) {
      await expect(verifyArtifacts(exp as ExpectedArtifact[], [model])).rejects.toBeInstanceOf(MalformedInputError);
    }
  });

  test('symlink escape inside the model, unreadable path, the same name twice', async () => {
    const m3 = join(dir, 'm3');
    mkdirSync(m3);
    symlinkSync('/etc/passwd', join(m3, 'config.json'));
    await expect(verifyArtifacts(bound, [m3])).rejects.toThrow(/escapes/);
    await expect(verifyArtifacts(bound, [join(dir, 'absent')])).rejects.toBeInstanceOf(MalformedInputError);
    // the same physical file named twice counts once (not twice, and not as an unbound extra)
    const twice = await verifyArtifacts(bound, [model, join(model, 'config.json')]);
    expect(twice.matched.filter((x) => x.name === 'config.json')).toHaveLength(1);
    expect(twice.extra).toEqual([]);
    // two different files under one name cannot be judged once
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'config.json'), 'x');
    await expect(verifyArtifacts(bound, [model, join(other, 'config.json')])).rejects.toThrow(/given twice/);
  });

  test('hub mode: a malformed .safetensors is refused before hashing', async () => {
    const p = join(dir, 'bad.safetensors');
    writeFileSync(p, Buffer.from('0800000000000000' + Buffer.from('{"a":1} ').toString('hex'), 'hex'));
    const exp = [{ name: 'bad.safetensors', digest: { sha256: sh(`sha256sum "${p}"`).slice(0, 64) } }];
    expect((await verifyArtifacts(exp, [p])).ok).toBe(true);
    await expect(verifyArtifacts(exp, [p], { validateSafetensors: true })).rejects.toBeInstanceOf(MalformedInputError);
  });
});

describe('compareLfs (no re-hashing)', () => {
  const hex = sh('printf abc | sha256sum').slice(0, 64);
  test('LFS oid, bare hex, X-Linked-Etag with quotes and W/', () => {
    for (const v of [`sha256:${hex}`, hex, `"${hex}"`, `W/"${hex}"`, ` "${hex.toUpperCase()}" `]) expect(compareLfs(hex, v)).toBe(true);
    expect(compareLfs(hex.toUpperCase(), hex)).toBe(true);
    expect(compareLfs(hex, '"' + 'f'.repeat(64) + '"')).toBe(false);
  });
  test('a git blob id or garbage is malformed, not a silent false', () => {
    expect(() => normalizeLfsDigest('"' + 'a'.repeat(40) + '"')).toThrow(/git blob/);
    expect(() => compareLfs(hex, 'W/"abc"')).toThrow(MalformedInputError);
    expect(() => compareLfs('nothex', hex)).toThrow(MalformedInputError);
  });
});
