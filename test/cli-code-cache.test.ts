// The built CLI runs the same with its V8 code cache present, absent, damaged, stale or refused by V8: the launcher
// (src/cli/bundle-loader.ts) uses a cache only when it belongs to the bundle and is intact, and otherwise compiles
// from source. Built into a private folder the way `npm run build` builds dist/bin.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cachedDataFor, cacheFile } from '../src/cli/bundle-loader.js';

const ROOT = resolve(import.meta.dirname, '..');
const V = (f: string) => join(ROOT, 'testvectors', 'quote', 'ak-rsa', f);
let bin = '';
let dir = '';
let pristine: Buffer;

/** `aicert quote` on a shipped vector with AICERT_DEBUG set; stdout, stderr and status. */
function quote(): { out: string; err: string; status: number | null } {
  const nonce = readFileSync(V('nonce.hex'), 'utf8').trim();
  const args = ['quote', '--ak', V('ak.pub'), '--message', V('quote.msg'), '--signature', V('quote.sig'), '--pcrs', V('quote.pcrs'), '--nonce', nonce];
  const r = spawnSync(process.execPath, [join(bin, 'aicert.js'), ...args], { encoding: 'utf8', env: { ...process.env, AICERT_DEBUG: '1' } });
  return { out: r.stdout, err: r.stderr, status: r.status };
}
const cache = () => join(bin, 'cmd-quote.cjs.cache');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicert-cc-'));
  bin = join(dir, 'bin');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-bin.mjs'), bin]);
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'code-cache.mjs'), bin]);
  pristine = readFileSync(cache());
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI code cache', () => {
  test('present: used without a fallback note, and the quote verifies', () => {
    writeFileSync(cache(), pristine);
    const r = quote();
    expect(r.status).toBe(0);
    expect(r.out).toContain('quote: valid');
    expect(r.err).not.toMatch(/code cache/);
  });

  test('absent, damaged, stale or refused by V8: same output, exit 0, a note under AICERT_DEBUG', () => {
    writeFileSync(cache(), pristine);
    const want = quote().out;
    const source = readFileSync(join(bin, 'cmd-quote.cjs'));
    const flipped = Buffer.from(pristine);
    flipped[flipped.length - 100]! ^= 0xff; // a byte of the V8 data
    const cases: Array<[string, () => void, RegExp]> = [
      ['absent', () => unlinkSync(cache()), /no usable code cache/],
      ['truncated', () => writeFileSync(cache(), pristine.subarray(0, 50)), /no usable code cache/],
      ['V8 data damaged', () => writeFileSync(cache(), flipped), /no usable code cache/],
      ['another bundle', () => copyFileSync(join(bin, 'cmd-hash.cjs.cache'), cache()), /no usable code cache/],
      ['refused by V8', () => writeFileSync(cache(), cacheFile(source, Buffer.alloc(4096, 7))), /V8 rejected the code cache/],
    ];
    for (const [label, damage, note] of cases) {
      damage();
      const r = quote();
      expect(r.status, label).toBe(0);
      expect(r.out, label).toBe(want);
      expect(r.err, label).toMatch(note);
    }
  });

  test('cachedDataFor binds a cache to its exact source and checks the V8 data', () => {
    const src = Buffer.from('module.exports = 1;');
    const data = Buffer.from('v8 data bytes');
    expect(cachedDataFor(src, cacheFile(src, data))).toEqual(data);
    expect(cachedDataFor(Buffer.from('module.exports = 2;'), cacheFile(src, data))).toBeUndefined();
    const bad = cacheFile(src, data);
    bad[bad.length - 1]! ^= 1;
    expect(cachedDataFor(src, bad)).toBeUndefined();
    expect(cachedDataFor(src, undefined)).toBeUndefined();
    expect(cachedDataFor(src, Buffer.alloc(0))).toBeUndefined();
  });

  test('a bundle that is missing or throws while loading: exit 2, escaped stderr, the error document with --json', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [join(bin, 'aicert.js'), ...args], { encoding: 'utf8' });
    const hash = join(bin, 'cmd-hash.cjs');
    const policy = join(bin, 'cmd-policy.cjs');
    const verify = join(bin, 'cmd-verify.cjs');
    const keep = [readFileSync(hash), readFileSync(policy), readFileSync(verify)] as const;
    try {
      unlinkSync(hash);
      unlinkSync(verify);
      writeFileSync(policy, 'throw new Error("boom \\x1b[31mred");');
      for (const [args, shape] of [
        [['hash', ROOT, '--json'], {}],
        [['policy', 'show', 'x', '--json'], {}],
        [['verify', 'x.json', '--json'], { valid: false, checks: [] }],
      ] as const) {
        const r = run([...args]);
        expect(r.status, args[0]).toBe(2);
        const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
        expect(doc, args[0]).toMatchObject({ ...shape, error: { code: 'ERROR' } });
        expect(doc.error.message).toMatch(/cannot load the command bundle/);
        expect(r.stderr).toMatch(new RegExp(`^aicert ${args[0]}: cannot load the command bundle`));
        expect(r.stderr).not.toContain('\x1b');
      }
    } finally {
      writeFileSync(hash, keep[0]);
      writeFileSync(policy, keep[1]);
      writeFileSync(verify, keep[2]);
    }
  });
});
