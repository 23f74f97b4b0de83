// Downloading a pinned commit from the loopback Hub, and every lie it can tell refused with a typed error and
// nothing left on disk. Expected digests: openssl and git hash-object (child_process), not the code under test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { downloadHubCommit } from '../src/node/hub-download.js';
import { sampleRepos, startFakeHub, type FakeHub, type FakeHubOptions, type FakeRepo } from './helpers/fake-hub.js';

const root = mkdtempSync(join(tmpdir(), 'aicert-hubdl-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const hubs: FakeHub[] = [];
afterEach(async () => {
  while (hubs.length) await hubs.pop()!.close();
});
const start = async (o: Partial<FakeHubOptions> = {}): Promise<FakeHub> => {
  const { model, dataset } = sampleRepos();
  const h = await startFakeHub({ repos: [model, dataset], ...o });
  hubs.push(h);
  return h;
};
let n = 0;
const fresh = (): { parent: string; dest: string } => {
  const parent = join(root, `case${n++}`);
  mkdirSync(parent);
  return { parent, dest: join(parent, 'out') };
};

/** openssl sha256 and git blob id of each file of a repo. */
function independent(repo: FakeRepo): Map<string, { sha256: string; blob: string }> {
  const d = mkdtempSync(join(root, 'ind-'));
  const out = new Map<string, { sha256: string; blob: string }>();
  repo.files.forEach((f, i) => {
    const p = join(d, String(i));
    writeFileSync(p, f.bytes);
    out.set(f.path, {
      sha256: execFileSync('openssl', ['dgst', '-sha256', '-r', p], { encoding: 'utf8' }).slice(0, 64),
      blob: execFileSync('git', ['hash-object', '--no-filters', p], { encoding: 'utf8' }).trim(),
    });
  });
  return out;
}

const { model, dataset } = sampleRepos();
const MODEL = `${model.repo}@${model.commit}`;
let want: Map<string, { sha256: string; blob: string }>;
beforeAll(() => {
  want = independent(model);
});

describe('download a pinned commit', () => {
  test('every file, byte for byte, with the commit it holds and independent digests', async () => {
    const hub = await start();
    const { dest } = fresh();
    const got = await downloadHubCommit(MODEL, dest, { endpoint: hub.url });
    expect(got.commit).toBe(model.commit);
    expect(got.files.map((f) => f.path)).toEqual(['.gitattributes', 'README.md', 'config.json', 'model.safetensors', 'tokenizer/tokenizer.json']);
    for (const f of got.files) {
      expect(f.sha256, f.path).toBe(want.get(f.path)!.sha256);
      expect(Buffer.compare(readFileSync(join(dest, f.path)), Buffer.from(model.files.find((x) => x.path === f.path)!.bytes)), f.path).toBe(0);
      if (!f.lfs) expect(f.gitOid).toBe(want.get(f.path)!.blob);
    }
    // nothing else in the folder (no temporary files)
    expect(readdirSync(dest, { recursive: true }).map(String).sort()).toEqual(['.gitattributes', 'README.md', 'config.json', 'model.safetensors', 'tokenizer', 'tokenizer/tokenizer.json']);
  });
  test('a dataset, one file only', async () => {
    const hub = await start();
    const { dest } = fresh();
    const got = await downloadHubCommit(`datasets/${dataset.repo}@${dataset.commit}`, dest, { endpoint: hub.url, only: ['data/big.parquet'] });
    expect(got.ref.kind).toBe('dataset');
    expect(got.files.map((f) => [f.path, f.sha256])).toEqual([['data/big.parquet', independent(dataset).get('data/big.parquet')!.sha256]]);
    expect(readdirSync(dest, { recursive: true }).map(String).sort()).toEqual(['data', 'data/big.parquet']);
  });
  test('a gated repository needs the token, which never leaves the endpoint', async () => {
    const cdn = await start();
    const hub = await start({ token: 'hf_secret', lies: { redirectLfsTo: cdn.url } });
    const a = fresh();
    await expect(downloadHubCommit(MODEL, a.dest, { endpoint: hub.url })).rejects.toMatchObject({ code: 'HUB_UNAVAILABLE', message: expect.stringMatching(/401.*HF_TOKEN/) });
    const b = fresh();
    const got = await downloadHubCommit(MODEL, b.dest, { endpoint: hub.url, token: 'hf_secret', allowHosts: ['127.0.0.1'] });
    expect(got.files).toHaveLength(5);
    expect(hub.requests.filter((r) => r.auth === 'Bearer hf_secret').length).toBeGreaterThan(3);
    expect(cdn.requests.length).toBe(1);
    expect(cdn.requests.every((r) => r.auth === undefined)).toBe(true);
  });
  test('an unpinned reference and an existing destination are refused before any request', async () => {
    const hub = await start();
    await expect(downloadHubCommit(`${model.repo}@main`, fresh().dest, { endpoint: hub.url })).rejects.toThrow(MalformedInputError);
    const { parent } = fresh();
    await expect(downloadHubCommit(MODEL, parent, { endpoint: hub.url })).rejects.toThrow(/already exists/);
    expect(hub.requests).toHaveLength(0);
  });
});

const OTHER = 'ffffffffffffffffffffffffffffffffffffffff';
const lying: [string, FakeHubOptions['lies'] | (() => Promise<FakeHubOptions['lies']>), string, RegExp][] = [
  ['LFS bytes differ from the LFS oid', { serve: (p, b) => (p === 'model.safetensors' ? b.map((x, i) => (i === b.length - 1 ? x ^ 1 : x)) : b) }, 'HUB_CONTENT_MISMATCH', /model\.safetensors.*sha256/],
  ['non-LFS bytes differ from the git blob id', { serve: (p, b) => (p === 'config.json' ? b.map((x, i) => (i === 2 ? 0x41 : x)) : b) }, 'HUB_CONTENT_MISMATCH', /config\.json.*git blob id/],
  ['the revision answer names another commit', { revisionSha: OTHER }, 'HUB_COMMIT_MISMATCH', /ffff.*pinned/],
  ['the tree belongs to another commit', { treeCommitHeader: OTHER }, 'HUB_COMMIT_MISMATCH', /commit/],
  ['a file is served from another commit', { resolveCommitHeader: OTHER }, 'HUB_COMMIT_MISMATCH', /commit/],
  ['a file is served without naming its commit', { omitResolveCommit: true }, 'HUB_COMMIT_MISMATCH', /X-Repo-Commit/],
  ['a truncated body', { truncate: 'tokenizer/tokenizer.json' }, 'HUB_CONTENT_MISMATCH', /tokenizer\.json.*(broke off|truncated)/],
  ['a size the bytes do not have', { tree: (e) => e.map((x) => (x.path === 'config.json' ? { ...x, size: (x.size as number) + 1 } : x)) }, 'HUB_CONTENT_MISMATCH', /config\.json/],
  ['garbage JSON', { treeBody: () => '[{"type":"file",' }, 'HUB_RESPONSE_INVALID', /not valid JSON/],
  ['duplicate keys', { treeBody: () => `[{"type":"file","path":"a","size":1,"oid":"${'a'.repeat(40)}","oid":"${'b'.repeat(40)}"}]` }, 'HUB_RESPONSE_INVALID', /duplicate/i],
  ['oversized JSON', { treeBody: () => Buffer.alloc(17 * 1024 * 1024, 0x20) }, 'HUB_RESPONSE_INVALID', /bytes/],
  ['a tree that is not an array', { treeBody: () => '{"error":"x"}' }, 'HUB_RESPONSE_INVALID', /./],
  ['path traversal in a tree name', { tree: (e) => [...e, { type: 'file', path: '../../evil.sh', size: 1, oid: 'a'.repeat(40) }] }, 'HUB_PATH_UNSAFE', /evil/],
  ['a .git path', { tree: (e) => [...e, { type: 'file', path: '.git/hooks/post-checkout', size: 1, oid: 'a'.repeat(40) }] }, 'HUB_PATH_UNSAFE', /\.git/],
  ['names a file system may merge', { tree: (e) => [...e, { ...e.find((x) => x.path === 'config.json')!, path: 'CONFIG.json' }] }, 'HUB_PATH_UNSAFE', /merge/],
  ['an entry of unknown type', { tree: (e) => [...e, { type: 'unknown', path: 'x', size: 0, oid: 'a'.repeat(40) }] }, 'HUB_RESPONSE_INVALID', /type/],
  ['pagination pointing at another repository', { treeLink: (b) => `<${b}/api/models/evil/repo/tree/${OTHER}?recursive=true>; rel="next"` }, 'HUB_RESPONSE_INVALID', /outside the pinned/],
  ['pagination pointing at another host', { treeLink: () => `<http://127.0.0.2:1/api/models/acme/tiny-ft/tree/x>; rel="next"` }, 'HUB_RESPONSE_INVALID', /outside the pinned/],
  ['an HTTP error', { status: 500 }, 'HUB_UNAVAILABLE', /HTTP 500/],
];

describe('a lying Hub: refused, nothing written', () => {
  test.each(lying)('%s', async (_name, lies, code, msg) => {
    const hub = await start({ lies: typeof lies === 'function' ? await lies() : lies });
    const { parent, dest } = fresh();
    const err = await downloadHubCommit(MODEL, dest, { endpoint: hub.url }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toMatch(msg);
    expect(readdirSync(parent)).toEqual([]);
  });
  test('a redirect to another host is not followed', async () => {
    const other = await start();
    const hub = await start({ lies: { redirectLfsTo: other.url } });
    const { parent, dest } = fresh();
    await expect(downloadHubCommit(MODEL, dest, { endpoint: hub.url })).rejects.toMatchObject({ code: 'HUB_REDIRECT_REFUSED', message: expect.stringContaining(other.url) });
    expect(other.requests).toHaveLength(0);
    expect(readdirSync(parent)).toEqual([]);
  });
  test('a redirect to a huggingface.co CDN host is allowed only for huggingface.co itself', async () => {
    const hub = await start({ lies: { redirectLfsTo: 'https://cdn-lfs.hf.co' } });
    const { parent, dest } = fresh();
    await expect(downloadHubCommit(MODEL, dest, { endpoint: hub.url })).rejects.toMatchObject({ code: 'HUB_REDIRECT_REFUSED' });
    expect(readdirSync(parent)).toEqual([]);
  });
  test('a total size over the limit is refused before downloading', async () => {
    const hub = await start();
    const { parent, dest } = fresh();
    await expect(downloadHubCommit(MODEL, dest, { endpoint: hub.url, maxTotalBytes: 100 })).rejects.toMatchObject({ code: 'HUB_RESPONSE_INVALID' });
    expect(hub.requests.some((r) => r.url.includes('/resolve/'))).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});
