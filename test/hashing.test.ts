// Whole-file SHA-256 of files and directories, cross-checked against coreutils sha256sum, openssl and find|sort.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { compareCodePoints, hashFile, hashPaths, validateArtifactName, walkPaths } from '../src/node/hashing.js';

const MiB = 1024 * 1024;
let dir: string;

/** sha256sum's digest of a file (independent of the code under test). */
const sha256sum = (p: string): string => execFileSync('sha256sum', ['-b', p], { encoding: 'utf8' }).split(' ')[0]!;
/** openssl's digest of a file. */
const openssl = (p: string): string => execFileSync('openssl', ['dgst', '-sha256', '-r', p], { encoding: 'utf8' }).split(' ')[0]!;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicert-hash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFile', () => {
  // sizes around the 4 MiB read size, tiny files, a random size and a few tens of MiB
  const sizes = [0, 1, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 1 + Math.floor(Math.random() * 3 * MiB), 37 * MiB + 12345];
  for (const size of sizes) {
    test(`${size} bytes matches sha256sum and openssl`, async () => {
      const p = join(dir, `f-${size}.bin`);
      writeFileSync(p, randomBytes(size));
      const want = sha256sum(p);
      expect(openssl(p)).toBe(want);
      let progressed = 0;
      const r = await hashFile(p, { onProgress: (n) => (progressed += n) });
      expect(r).toEqual({ sha256: want, size });
      expect(progressed).toBe(size);
      // 1 MiB reads give the same digest
      expect((await hashFile(p, { highWaterMark: MiB })).sha256).toBe(want);
    });
  }

  test('unreadable and missing paths are MalformedInputError', async () => {
    await expect(hashFile(join(dir, 'nope'))).rejects.toBeInstanceOf(MalformedInputError);
    await expect(hashFile(dir)).rejects.toBeInstanceOf(MalformedInputError);
    await expect(hashFile(42 as unknown as string)).rejects.toBeInstanceOf(TypeError);
  });
});

describe('directories', () => {
  let model: string;
  beforeAll(() => {
    model = join(dir, 'model');
    // nested dirs and names whose UTF-16 order differs from code-point order (U+FF21 vs U+1F600)
    const files: Record<string, number> = {
      'config.json': 100,
      'a/b/c/deep.bin': 5000,
      'a/b.bin': 0,
      'a-b.bin': 7,
      'Z.txt': 3,
      '\uFF21.bin': 11,
      '\u{1F600}.bin': 13,
      'é/x': 1,
      'shards/model-00001-of-00002.safetensors': 3 * MiB + 5,
      'shards/model-00002-of-00002.safetensors': 2 * MiB,
    };
    for (const [name, size] of Object.entries(files)) {
      const p = join(model, name);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, randomBytes(size));
    }
  });

  test('every regular file, sorted by code point, same as find | LC_ALL=C sort | sha256sum', async () => {
    const expected = execFileSync('sh', ['-c', `cd "${dir}" && find model -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum`], { encoding: 'utf8' });
    for (const workers of [1, 2, 3]) {
      const r = await hashPaths([join(dir, 'model')], { workers });
      const lines = r.map((d) => `${d.digest}  ${d.path.slice(dir.length + 1)}\n`).join('');
      expect(lines).toBe(expected);
      expect(r.every((d) => d.algorithm === 'sha256')).toBe(true);
    }
  });

  test('names are POSIX relative paths; code-point order differs from UTF-16 order', async () => {
    const names = (await walkPaths([model])).map((e) => e.name);
    expect(names).toContain('a/b/c/deep.bin');
    expect(names.indexOf('\uFF21.bin')).toBeLessThan(names.indexOf('\u{1F600}.bin'));
    expect(['\u{1F600}', '\uFF21'].sort()).toEqual(['\u{1F600}', '\uFF21']); // what a naive sort would do
    expect(compareCodePoints('\uFF21', '\u{1F600}')).toBeLessThan(0);
  });

  test('worker pool result equals single-thread result, progress adds up', async () => {
    let last = 0;
    let total: number | undefined;
    const many = await hashPaths([model, join(dir, 'f-1.bin')], { workers: 2, onProgress: (d, t) => ((last = d), (total = t)) });
    const one = await hashPaths([model, join(dir, 'f-1.bin')], { workers: 1 });
    expect(many).toEqual(one);
    expect(total).toBe(one.reduce((a, d) => a + d.size, 0));
    expect(last).toBe(total);
    expect(many.at(-1)!.name).toBe('f-1.bin');
  });

  test('symlink escaping the directory is rejected under every policy', async () => {
    const d = join(dir, 'escape');
    mkdirSync(d);
    writeFileSync(join(d, 'ok.bin'), 'x');
    symlinkSync(join(dir, 'f-1.bin'), join(d, 'evil.bin'));
    for (const symlinks of ['refuse', 'follow-in-tree'] as const) {
      await expect(hashPaths([d], { symlinks })).rejects.toThrow(/escapes/);
    }
  });

  test('in-tree symlinks: refused by default, followed under the link name with follow-in-tree', async () => {
    const d = join(dir, 'intree');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'real.bin'), 'weights');
    symlinkSync('real.bin', join(d, 'link.bin'));
    await expect(hashPaths([d])).rejects.toThrow(/symlink refused/);
    const r = await hashPaths([d], { symlinks: 'follow-in-tree', workers: 1 });
    expect(r.map((x) => x.name)).toEqual(['link.bin', 'real.bin']);
    expect(r[0]!.digest).toBe(sha256sum(join(d, 'real.bin')));
    // a symlink to a directory is never followed (cycles)
    symlinkSync('sub', join(d, 'dirlink'));
    await expect(hashPaths([d], { symlinks: 'follow-in-tree' })).rejects.toBeInstanceOf(MalformedInputError);
  });

  test('a symlink named explicitly is followed', async () => {
    const l = join(dir, 'top-link.bin');
    symlinkSync(join(dir, 'f-1.bin'), l);
    const [r] = await hashPaths([l]);
    expect(r!.digest).toBe(sha256sum(join(dir, 'f-1.bin')));
    expect(r!.path).toBe(l);
  });

  test('FIFOs inside a directory and non-UTF-8 names are refused', async () => {
    const d = join(dir, 'special');
    mkdirSync(d);
    execFileSync('mkfifo', [join(d, 'pipe')]);
    await expect(hashPaths([d])).rejects.toThrow(/not a regular file/);
    const d2 = join(dir, 'latin1');
    mkdirSync(d2);
    writeFileSync(Buffer.concat([Buffer.from(d2 + '/'), Buffer.from([0x66, 0xff])]), 'x');
    await expect(hashPaths([d2])).rejects.toThrow(/not valid UTF-8/);
    // A name starting with U+FEFF keeps it when the raw names are decoded (a U+FFFD name makes the walk decode them):
    // dropping it would list "x" twice and never hash the file "\uFEFFx".
    const d3 = join(dir, 'bom-names');
    mkdirSync(d3);
    writeFileSync(join(d3, 'x'), 'bound');
    writeFileSync(join(d3, '\uFEFFx'), 'hidden');
    writeFileSync(join(d3, 'n\uFFFD'), 'valid U+FFFD name');
    const names = (await walkPaths([d3])).map((e) => e.name);
    expect(names).toEqual(['n\uFFFD', 'x', '\uFEFFx']);
  });

  test('a file swapped for a symlink or deleted after the walk is refused by the workers (O_NOFOLLOW)', async () => {
    const d = join(dir, 'race');
    mkdirSync(d);
    for (const n of ['a.bin', 'b.bin', 'c.bin']) writeFileSync(join(d, n), randomBytes(1000));
    const { hashEntries } = await import('../src/node/hashing.js');
    const entries = await walkPaths([d]);
    rmSync(join(d, 'b.bin'));
    symlinkSync(join(dir, 'f-1.bin'), join(d, 'b.bin'));
    for (const workers of [1, 2]) {
      await expect(hashEntries(entries, { shardSize: undefined, hwm: 4096, workers, onProgress: undefined })).rejects.toThrow(/symlink refused/);
    }
    rmSync(join(d, 'b.bin'));
    await expect(hashEntries(entries, { shardSize: undefined, hwm: 4096, workers: 2, onProgress: undefined })).rejects.toThrow(/ENOENT/);
  });

  test('bound names: .., absolute, empty segments, backslash are refused', () => {
    for (const bad of ['../x', 'a/../b', '/etc/passwd', 'a//b', './a', 'a/.', '', 'a\\b', 'a\0b']) {
      expect(() => validateArtifactName(bad, 't')).toThrow(MalformedInputError);
    }
    expect(validateArtifactName('a/b..c/.d', 't')).toBe('a/b..c/.d');
  });
});
