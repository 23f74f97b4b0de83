// `aicert hash` per the CLI contract, run from a build made the way the package is built (the CLI by
// scripts/build-bin.mjs, node/hashing by tsup: ESM, chunks), which also proves the worker pool works from built output. Outputs are compared with coreutils sha256sum.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
let dir: string;
let out: string;

/** Runs the built CLI. */
const aicert = (...args: string[]) => spawnSync(process.execPath, [join(out, 'bin', 'aicert.js'), ...args], { encoding: 'utf8', cwd: dir });
const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', cwd: dir });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aicert-cli-'));
  out = join(dir, 'dist');
  // the package's build settings (tsup.config.ts), into a private folder so the real dist/ is untouched
  await build({
    entry: { 'node/hashing': join(ROOT, 'src/node/hashing.ts') },
    outDir: out,
    format: ['esm'],
    target: 'node20',
    platform: 'neutral',
    splitting: true,
    treeshake: true,
    dts: false,
    silent: true,
    config: false,
  });
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-bin.mjs'), join(out, 'bin')]);
  mkdirSync(join(dir, 'm', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'm', 'w.bin'), randomBytes(5_000_000));
  writeFileSync(join(dir, 'm', 'sub', 'cfg.json'), '{}');
  writeFileSync(join(dir, 'm', 'empty'), '');
  writeFileSync(join(dir, 'single.bin'), randomBytes(1234));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('aicert hash (built)', () => {
  test('output is byte-for-byte what sha256sum prints for the same files in the same order', () => {
    const r = aicert('hash', 'single.bin', 'm');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(''); // no progress bar: stderr is not a TTY
    const want = sh('sha256sum single.bin && find m -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum');
    expect(r.stdout).toBe(want);
  });

  test('file names that would drive the terminal are written escaped (leading backslash) and read back by --check', () => {
    const d = join(dir, 'hostile-names');
    mkdirSync(d);
    const names = ['a\u202eb.txt', 'c\x1b[31md', 'tab\tname', 'back\\slash', 'zw\u200bj', 'plain'];
    for (const n of names) writeFileSync(join(d, n), n);
    const r = aicert('hash', 'hostile-names');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/[\x1b\u202e\t\u200b]/);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(names.length);
    // coreutils' escape for the backslash (the oracle), and the escaper's forms for the rest
    expect(lines).toContain(`\\${sh("printf 'back\\\\slash' | sha256sum").slice(0, 64)}  hostile-names/back\\\\slash`);
    expect(lines.find((l) => l.endsWith('c\\x1b[31md'))?.startsWith('\\')).toBe(true);
    expect(lines.find((l) => l.endsWith('hostile-names/plain'))?.startsWith('\\')).toBe(false);
    writeFileSync(join(dir, 'hostile.sha256'), r.stdout);
    const c = aicert('hash', '--check', 'hostile.sha256', '--json');
    expect(c.status).toBe(0);
    expect((JSON.parse(c.stdout) as { files: { path: string; status: string }[] }).files.map((f) => [f.path, f.status])).toEqual([...names].sort().map((n) => [`hostile-names/${n}`, 'OK']).sort());
  });

  test('--json is one document [{path, sha256, size}]', () => {
    const r = aicert('hash', '--json', 'm');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(doc.map((d) => Object.keys(d))).toEqual([['path', 'sha256', 'size'], ['path', 'sha256', 'size'], ['path', 'sha256', 'size']]);
    expect(doc.map((d) => d.path)).toEqual(['m/empty', 'm/sub/cfg.json', 'm/w.bin']);
    expect(doc[2]).toEqual({ path: 'm/w.bin', sha256: sh('sha256sum m/w.bin').slice(0, 64), size: 5_000_000 });
  });

  test('--sharded prints the sharded root (1 GiB shards: root over one shard = the spec construction)', () => {
    const r = aicert('hash', '--sharded', 'm/w.bin', 'm/empty');
    expect(r.status).toBe(0);
    const root = (f: string) =>
      sh(`F=${f}; L=$(stat -c %s $F); { printf 'aicert-sharded-sha256\\0'; printf '%016x%016x' 1073741824 $L | xxd -r -p; [ $L -gt 0 ] && openssl dgst -sha256 -binary $F; } | openssl dgst -sha256 -r`).slice(0, 64);
    expect(r.stdout).toBe(`${root('m/w.bin')}  m/w.bin\n${root('m/empty')}  m/empty\n`);
    const j = JSON.parse(aicert('hash', '--sharded', '--json', 'm/w.bin').stdout);
    expect(j).toEqual([{ path: 'm/w.bin', sha256: root('m/w.bin'), size: 5_000_000, algorithm: 'aicert-sharded-sha256-1073741824' }]);
  });

  test('exit 2 on an unreadable path, no partial output; exit 2 on bad usage', () => {
    const r = aicert('hash', 'single.bin', 'does-not-exist');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/does-not-exist.*ENOENT/);
    expect(aicert('hash').status).toBe(2);
    expect(aicert('hash', '--bogus', 'm').status).toBe(2);
    expect(aicert('hash', '--help').status).toBe(0);
  });

  test('names with a newline are escaped like sha256sum', () => {
    writeFileSync(join(dir, 'a\nb'), 'x');
    const r = aicert('hash', 'a\nb');
    expect(r.stdout).toBe(sh("sha256sum 'a\nb'"));
  });

  test('stdin as -', () => {
    const r = spawnSync(process.execPath, [join(out, 'bin', 'aicert.js'), 'hash', '-'], { input: 'abc', encoding: 'utf8' });
    expect(r.stdout).toBe(sh('printf abc | sha256sum'));
  });

  test('the built node/hashing module runs its worker pool (several files and shards on 2 threads)', async () => {
    expect(existsSync(join(out, 'node', 'hashing.js'))).toBe(true);
    const mod = (await import(pathToFileURL(join(out, 'node', 'hashing.js')).href)) as typeof import('../src/node/hashing.js');
    const files = await mod.hashPaths([join(dir, 'm')], { workers: 2 });
    expect(files.map((f) => f.digest)).toEqual(sh('find m -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum').trim().split('\n').map((l) => l.slice(0, 64)));
    const shards = await mod.hashPaths([join(dir, 'm', 'w.bin')], { workers: 2, sharded: 1 << 20 });
    const single = await mod.hashPaths([join(dir, 'm', 'w.bin')], { workers: 1, sharded: 1 << 20 });
    expect(shards[0]!.shards).toHaveLength(5);
    expect(shards).toEqual(single);
  });
});
