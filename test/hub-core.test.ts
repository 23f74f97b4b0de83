// Hub core without a server: reference syntax, tree entry checks, conventions and the comparison rules.
// Expected digests come from openssl / git (child_process), never from the code under test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { MalformedInputError, VerificationError } from '../src/errors.js';
import {
  checkHubPath,
  checkTreeEntry,
  compareOutputsWithTree,
  formatHubRef,
  gitBlobId,
  isConventionalFile,
  parseEndpoint,
  parseHubRef,
  type HubTree,
} from '../src/hub/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aicert-hubcore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const C1 = 'a'.repeat(40);

/** sha256 by openssl, git blob id by git hash-object. */
function ext(bytes: Uint8Array): { sha256: string; blob: string } {
  const p = join(dir, `f${Math.random().toString(36).slice(2)}`);
  writeFileSync(p, bytes);
  const sha256 = execFileSync('openssl', ['dgst', '-sha256', '-r', p], { encoding: 'utf8' }).slice(0, 64);
  const blob = execFileSync('git', ['hash-object', '--no-filters', p], { encoding: 'utf8' }).trim();
  return { sha256, blob };
}

describe('references', () => {
  test('models and datasets pinned to a 40-hex commit', () => {
    expect(parseHubRef(`org/name@${C1}`)).toEqual({ kind: 'model', repo: 'org/name', revision: C1 });
    expect(parseHubRef(`datasets/o-1/d.x_y@${C1}`)).toEqual({ kind: 'dataset', repo: 'o-1/d.x_y', revision: C1 });
    expect(formatHubRef(parseHubRef(`datasets/o/d@${C1}`))).toBe(`datasets/o/d@${C1}`);
  });
  test.each([
    ['org/name@main', /branch or tag can move/],
    ['org/name', /no @REV/],
    [`org/name@${'A'.repeat(40)}`, /lowercase/],
    ['org/name@abcdef1', /abbreviated/],
    [`org/../x@${C1}`, /ORG\/NAME/],
    [`org@${C1}`, /ORG\/NAME/],
    [`a/b/c@${C1}`, /ORG\/NAME/],
    [`spaces/a/b@${C1}`, /Spaces/],
  ])('%s is refused', (s, why) => {
    expect(() => parseHubRef(s)).toThrow(MalformedInputError);
    expect(() => parseHubRef(s)).toThrow(why);
  });
  test('endpoints: https anywhere, http on loopback only, no credentials', () => {
    expect(parseEndpoint('https://hf-mirror.example/').host).toBe('hf-mirror.example');
    expect(parseEndpoint('http://127.0.0.1:8080').port).toBe('8080');
    for (const bad of ['http://example.com', 'ftp://x', 'https://u:p@huggingface.co', 'https://huggingface.co/?a=1', 'nope'])
      expect(() => parseEndpoint(bad)).toThrow(MalformedInputError);
  });
});

describe('tree entries', () => {
  test.each(['../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\b', 'a\x00b', 'a\x1bb', '.git/config', 'x/.GIT/hooks', 'a\u009bb', 'x\ud800'])('unsafe path %j', (p) => {
    expect(() => checkHubPath(p)).toThrow(expect.objectContaining({ code: 'HUB_PATH_UNSAFE' }));
  });
  test('fields are checked one by one', () => {
    const good = { type: 'file', path: 'a.bin', size: 3, oid: 'b'.repeat(40), lfs: { oid: 'c'.repeat(64), size: 3, pointerSize: 130 } };
    expect(checkTreeEntry(good, 0)).toEqual({ path: 'a.bin', size: 3, oid: 'b'.repeat(40), lfs: { sha256: 'c'.repeat(64), pointerSize: 130 } });
    for (const bad of [
      { ...good, type: 'unknown' },
      { ...good, size: -1 },
      { ...good, size: 1.5 },
      { ...good, oid: 'B'.repeat(40) },
      { ...good, lfs: { ...good.lfs, oid: 'sha256:' + 'c'.repeat(64) } },
      { ...good, lfs: { ...good.lfs, size: 4 } },
      { ...good, xetHash: 'zz' },
      null,
      [],
    ])
      expect(() => checkTreeEntry(bad, 0)).toThrow(expect.objectContaining({ code: 'HUB_RESPONSE_INVALID' }));
  });
  test('git blob id agrees with git hash-object', () => {
    for (const b of [new Uint8Array(0), new TextEncoder().encode('{"a":1}\n'), Uint8Array.from({ length: 5000 }, (_, k) => k % 251)])
      expect(gitBlobId(b)).toBe(ext(b).blob);
  });
});

describe('conventions', () => {
  test('documentation and git metadata are conventional, weights and configs are not', () => {
    for (const p of ['README.md', 'readme.md', '.gitattributes', '.gitignore', 'LICENSE', 'LICENSE.txt', 'LICENSE-APACHE', 'NOTICE', 'CITATION.cff', '.cache/huggingface/download/a.metadata'])
      expect(isConventionalFile(p), p).toBe(true);
    for (const p of ['config.json', 'pytorch_model.bin', 'model.safetensors', 'sub/README.md', 'LICENSE/evil.bin', 'tokenizer.json', 'README.md.bin'])
      expect(isConventionalFile(p), p).toBe(false);
  });
});

describe('compare without downloading', () => {
  const P = Uint8Array.from({ length: 10_000 }, (_, k) => k % 251);
  const p = ext(P);
  const tree = (files: HubTree['files']): HubTree => ({ ref: { kind: 'model', repo: 'o/m', revision: C1 }, commit: C1, files, directories: [] });
  const lfsFile = (path: string, sha256: string, size = P.length) => ({ path, size, oid: 'd'.repeat(40), lfs: { sha256, pointerSize: 134 } });

  test('LFS oid = whole-file sha256; conventional files listed, not failing', async () => {
    const t = tree([lfsFile('model.safetensors', p.sha256), { path: 'README.md', size: 5, oid: 'e'.repeat(40) }]);
    const r = await compareOutputsWithTree([{ name: 'model.safetensors', sha256: p.sha256 }], t);
    expect(r.ok).toBe(true);
    expect(r.files.map((f) => [f.name, f.status])).toEqual([['README.md', 'conventional'], ['model.safetensors', 'match']]);
    expect(r.files[1]!.via).toBe('lfs-oid');
  });
  test('mismatch, missing, extra and an unread non-LFS output fail', async () => {
    const t = tree([lfsFile('a.safetensors', 'f'.repeat(64)), lfsFile('pytorch_model.bin', p.sha256), { path: 'config.json', size: 10, oid: 'e'.repeat(40) }]);
    const r = await compareOutputsWithTree(
      [{ name: 'a.safetensors', sha256: p.sha256 }, { name: 'b.safetensors', sha256: p.sha256 }, { name: 'config.json', sha256: p.sha256 }, { name: 'x', sha256: p.sha256 }],
      tree([...t.files, lfsFile('x', p.sha256)]),
    );
    expect(r.ok).toBe(false);
    expect(Object.fromEntries(r.files.map((f) => [f.name, f.status]))).toEqual({
      'a.safetensors': 'mismatch', 'b.safetensors': 'missing', 'config.json': 'unverifiable', 'pytorch_model.bin': 'extra', x: 'match',
    });
  });
  test('a non-LFS output is read and its sha256 compared', async () => {
    const cfg = new TextEncoder().encode('{"model_type":"llama"}\n');
    const c = ext(cfg);
    const t = tree([{ path: 'config.json', size: cfg.length, oid: c.blob }]);
    const r = await compareOutputsWithTree([{ name: 'config.json', sha256: c.sha256 }], t, { readFile: async () => cfg });
    expect(r.files[0]).toMatchObject({ status: 'match', via: 'content' });
  });
  test('a sharded digest is derived from the LFS oid when the file fits one shard (spec vector)', async () => {
    // spec/sharded-digest.md §4: P with S = 1 GiB has root 4a39…4c91 (computed there with dd + openssl)
    const alg = 'aicert-sharded-sha256-1073741824';
    const root = '4a39202a35510276e4acbbf44083d0c6345b41a8709824e6e6b2c4c3b4904c91';
    const r = await compareOutputsWithTree([{ name: 'w.bin', digest: { [alg]: root } }], tree([lfsFile('w.bin', p.sha256)]));
    expect(r.files[0]).toMatchObject({ status: 'match', algorithm: alg });
    // S = 4096: three shards, cannot be judged from a whole-file oid
    const r2 = await compareOutputsWithTree([{ name: 'w.bin', digest: { 'aicert-sharded-sha256-4096': '4829'.padEnd(64, '0') } }], tree([lfsFile('w.bin', p.sha256)]));
    expect(r2.files[0]!.status).toBe('unverifiable');
    expect(r2.ok).toBe(false);
  });
  test('a bound list that names a file twice or has no digest is malformed', async () => {
    const t = tree([]);
    await expect(compareOutputsWithTree([{ name: 'a', sha256: p.sha256 }, { name: 'a', sha256: p.sha256 }], t)).rejects.toThrow(MalformedInputError);
    await expect(compareOutputsWithTree([{ name: 'a', digest: { md5: 'x' } }], t)).rejects.toThrow(MalformedInputError);
    await expect(compareOutputsWithTree([{ name: '../a', sha256: p.sha256 }], t)).rejects.toThrow(MalformedInputError);
  });
  test('errors are typed', () => {
    expect(() => checkHubPath(3)).toThrow(VerificationError);
  });
});

describe('fuzz: only typed errors out', () => {
  const typed = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof VerificationError || e instanceof MalformedInputError)) throw e;
    }
  };
  test('tree entries', () => {
    const entry = fc.record({ type: fc.constantFrom('file', 'directory', 'x'), path: fc.string(), size: fc.oneof(fc.integer(), fc.double()), oid: fc.string(), lfs: fc.anything() }, { requiredKeys: [] });
    fc.assert(fc.property(fc.oneof(fc.anything(), entry), (e) => typed(() => checkTreeEntry(e, 0))), { numRuns: 2000 });
  });
  test('references and paths', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      typed(() => parseHubRef(s));
      typed(() => parseHubRef(`o/n@${s}`));
      typed(() => checkHubPath(s));
    }), { numRuns: 2000 });
  });
});
