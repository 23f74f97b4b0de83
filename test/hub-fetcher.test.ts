// The runner's Hub fetcher against the loopback Hub: pinned inputs in the mirror layout, lies refused, nothing left.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { FetchError } from '../src/runner/fetchers.js';
import { hubFetcher, type HubFetched } from '../src/runner/fetch-hub.js';
import { sampleRepos, startFakeHub, type FakeHub, type FakeHubLies } from './helpers/fake-hub.js';

const root = mkdtempSync(join(tmpdir(), 'aicert-hubfetch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const hubs: FakeHub[] = [];
afterEach(async () => {
  while (hubs.length) await hubs.pop()!.close();
});
const { model, dataset } = sampleRepos();
const start = async (lies?: FakeHubLies) => {
  const h = await startFakeHub({ repos: [model, dataset], lies });
  hubs.push(h);
  return h;
};
let n = 0;

describe('hubFetcher', () => {
  test('model and dataset file land in the mirror layout, at the commit the Hub confirmed', async () => {
    const hub = await start();
    const dir = join(root, `ok${n++}`);
    const fetch = hubFetcher({ root: dir, endpoint: hub.url });
    const m = (await fetch({ kind: 'model', repo: model.repo, revision: model.commit })) as HubFetched;
    expect(m.dir).toBe(join(dir, 'acme', 'tiny-ft', model.commit));
    expect(m.commit).toBe(model.commit);
    expect(m.files).toHaveLength(5);
    const d = (await fetch({ kind: 'dataset', repo: dataset.repo, revision: dataset.commit, file: 'data/train.jsonl' })) as HubFetched;
    expect(d.dir).toBe(join(dir, 'datasets', 'acme', 'instructions', dataset.commit));
    expect(readdirSync(d.dir, { recursive: true }).map(String).sort()).toEqual(['data', 'data/train.jsonl']);
    const want = execFileSync('openssl', ['dgst', '-sha256', '-r', join(d.dir, 'data/train.jsonl')], { encoding: 'utf8' }).slice(0, 64);
    writeFileSync(join(root, 'train.jsonl'), dataset.files.find((f) => f.path === 'data/train.jsonl')!.bytes);
    expect(execFileSync('openssl', ['dgst', '-sha256', '-r', join(root, 'train.jsonl')], { encoding: 'utf8' }).slice(0, 64)).toBe(want);
    expect(d.files[0]!.sha256).toBe(want);
  });
  test('a folder left from an earlier run is replaced, not trusted', async () => {
    const hub = await start();
    const dir = join(root, `stale${n++}`);
    const stale = join(dir, 'acme', 'tiny-ft', model.commit);
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'planted.bin'), 'x');
    const m = await hubFetcher({ root: dir, endpoint: hub.url })({ kind: 'model', repo: model.repo, revision: model.commit });
    expect(existsSync(join(m.dir, 'planted.bin'))).toBe(false);
  });
  test.each([
    ['LFS bytes that differ from the oid', { serve: (p: string, b: Uint8Array) => (p === 'model.safetensors' ? b.map((x) => x ^ 0xff) : b) }, 'HUB_CONTENT_MISMATCH'],
    ['a tree of another commit', { revisionSha: 'c'.repeat(40) }, 'HUB_COMMIT_MISMATCH'],
    ['a redirect to another host', { redirectLfsTo: 'http://127.0.0.9:9' }, 'HUB_REDIRECT_REFUSED'],
  ])('%s: FetchError with the code, nothing fetched', async (_n, lies, code) => {
    const hub = await start(lies);
    const dir = join(root, `lie${n++}`);
    const err = await hubFetcher({ root: dir, endpoint: hub.url })({ kind: 'model', repo: model.repo, revision: model.commit }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as Error).message.startsWith(code)).toBe(true);
    expect((err as Error & { cause: { code: string } }).cause.code).toBe(code);
    const parent = join(dir, 'acme', 'tiny-ft');
    expect(existsSync(parent) ? readdirSync(parent) : []).toEqual([]);
  });
  test('requests are checked before anything is asked', async () => {
    const hub = await start();
    const f = hubFetcher({ root: join(root, `bad${n++}`), endpoint: hub.url });
    await expect(f({ kind: 'model', repo: '../x', revision: model.commit })).rejects.toThrow(FetchError);
    await expect(f({ kind: 'model', repo: model.repo, revision: 'main' })).rejects.toThrow(FetchError);
    expect(hub.requests).toHaveLength(0);
  });
});
