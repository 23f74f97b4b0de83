// Hub mode: bound outputs compared with the loopback Hub's tree of one commit, without downloading the weights.
// Expected digests: openssl (child_process), never the code under test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { MalformedInputError, VerificationError } from '../src/errors.js';
import { hubArtifactVerifier, listHubTree, parseHubRef, verifyOutputsOnHub, type HubCompareReport } from '../src/hub/index.js';
import { parseSafetensorsHeader } from '../src/node/safetensors.js';
import { sampleRepos, startFakeHub, type FakeHub, type FakeHubOptions, type FakeRepo } from './helpers/fake-hub.js';

const dir = mkdtempSync(join(tmpdir(), 'aicert-hubcmp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hubs: FakeHub[] = [];
afterEach(async () => {
  while (hubs.length) await hubs.pop()!.close();
});
const { model, dataset } = sampleRepos();
const start = async (o: Partial<FakeHubOptions> = {}, repos: FakeRepo[] = [model, dataset]): Promise<FakeHub> => {
  const h = await startFakeHub({ repos, ...o });
  hubs.push(h);
  return h;
};
const opensslSha256 = (b: Uint8Array): string => {
  const p = join(dir, `f${Math.random().toString(36).slice(2)}`);
  writeFileSync(p, b);
  return execFileSync('openssl', ['dgst', '-sha256', '-r', p], { encoding: 'utf8' }).slice(0, 64);
};
const bytesOf = (r: FakeRepo, p: string) => r.files.find((f) => f.path === p)!.bytes;
/** The outputs a fine-tune run binds: everything but README and .gitattributes. */
const OUTPUTS = ['config.json', 'model.safetensors', 'tokenizer/tokenizer.json'].map((name) => ({ name, sha256: opensslSha256(bytesOf(model, name)) }));
const REF = `${model.repo}@${model.commit}`;
const status = (r: HubCompareReport) => Object.fromEntries(r.files.map((f) => [f.name, f.status]));

describe('the tree of one commit', () => {
  test('recursive, paginated, with blob ids, sizes and LFS oids', async () => {
    const hub = await start({ pageSize: 2 });
    const t = await listHubTree(parseHubRef(REF), { endpoint: hub.url });
    expect(t.commit).toBe(model.commit);
    expect(t.files.map((f) => f.path)).toEqual(['.gitattributes', 'README.md', 'config.json', 'model.safetensors', 'tokenizer/tokenizer.json']);
    expect(t.directories).toEqual(['tokenizer']);
    const st = t.files.find((f) => f.path === 'model.safetensors')!;
    expect(st.lfs?.sha256).toBe(opensslSha256(bytesOf(model, 'model.safetensors')));
    expect(st.size).toBe(bytesOf(model, 'model.safetensors').length);
    expect(hub.requests.filter((r) => r.url.includes('/tree/')).length).toBe(3);
  });
});

describe('compare bound outputs with the Hub', () => {
  test('all match; README and .gitattributes listed as conventional; LFS weights never downloaded', async () => {
    const hub = await start();
    const r = await verifyOutputsOnHub(REF, OUTPUTS, { endpoint: hub.url, safetensorsHeader: parseSafetensorsHeader });
    expect(r.ok).toBe(true);
    expect(status(r)).toEqual({ '.gitattributes': 'conventional', 'README.md': 'conventional', 'config.json': 'match', 'model.safetensors': 'match', 'tokenizer/tokenizer.json': 'match' });
    expect(r.files.find((f) => f.name === 'model.safetensors')).toMatchObject({ via: 'lfs-oid', reason: expect.stringMatching(/header checked/) });
    expect(r.files.find((f) => f.name === 'config.json')).toMatchObject({ via: 'content' });
    // the weights: only two small range reads of the header, never the whole file
    const cdn = hub.requests.filter((q) => q.url.startsWith('/lfs-cdn/'));
    expect(cdn.map((q) => q.range)).toEqual(['bytes=0-7', expect.stringMatching(/^bytes=8-\d+$/)]);
  });
  test('a dataset repository works the same way', async () => {
    const hub = await start();
    const bound = [{ name: 'data/big.parquet', sha256: opensslSha256(bytesOf(dataset, 'data/big.parquet')) }, { name: 'data/train.jsonl', sha256: opensslSha256(bytesOf(dataset, 'data/train.jsonl')) }];
    const r = await verifyOutputsOnHub(`datasets/${dataset.repo}@${dataset.commit}`, bound, { endpoint: hub.url });
    expect(r.ok).toBe(true);
    expect(r.ref).toBe(`datasets/${dataset.repo}@${dataset.commit}`);
  });
  test('an extra weight file next to the certified ones fails, by name', async () => {
    const extra = { ...model, files: [...model.files, { path: 'pytorch_model.bin', bytes: new Uint8Array(300).fill(7), lfs: true }] };
    const hub = await start({}, [extra]);
    const r = await verifyOutputsOnHub(REF, OUTPUTS, { endpoint: hub.url });
    expect(r.ok).toBe(false);
    expect(r.files.find((f) => f.name === 'pytorch_model.bin')?.status).toBe('extra');
    // the caller may ignore it explicitly (--ignore)
    const r2 = await verifyOutputsOnHub(REF, OUTPUTS, { endpoint: hub.url, ignore: (p) => p.endsWith('.bin') });
    expect(r2.ok).toBe(true);
  });
  test('a weight whose LFS oid differs from the bound digest is a mismatch; a bound file absent is missing', async () => {
    const other = { ...model, files: model.files.map((f) => (f.path === 'model.safetensors' ? { ...f, bytes: sampleSafetensors(3) } : f)).filter((f) => f.path !== 'config.json') };
    const hub = await start({}, [other]);
    const r = await verifyOutputsOnHub(REF, OUTPUTS, { endpoint: hub.url });
    expect(status(r)).toMatchObject({ 'model.safetensors': 'mismatch', 'config.json': 'missing', 'tokenizer/tokenizer.json': 'match' });
    expect(r.files.find((f) => f.name === 'model.safetensors')).toMatchObject({ expected: OUTPUTS[1]!.sha256, actual: opensslSha256(sampleSafetensors(3)) });
    expect(r.ok).toBe(false);
  });
  test('a Hub serving a malformed safetensors header under a matching oid: the header check refuses it', async () => {
    const hub = await start({ lies: { serve: (p, b) => (p === 'model.safetensors' ? Uint8Array.from(b, (x, i) => (i === 8 ? 0x5b : x)) : b) } });
    const r = await verifyOutputsOnHub(REF, OUTPUTS, { endpoint: hub.url, safetensorsHeader: parseSafetensorsHeader });
    expect(r.files.find((f) => f.name === 'model.safetensors')).toMatchObject({ status: 'mismatch', reason: expect.stringMatching(/safetensors header refused/) });
    expect(r.ok).toBe(false);
  });
  test.each([
    ['non-LFS bytes differ from the blob id', { serve: (p: string, b: Uint8Array) => (p === 'config.json' ? b.map((x, i) => (i === 3 ? 0x21 : x)) : b) }, 'HUB_CONTENT_MISMATCH', /config\.json/],
    ['the revision names another commit', { revisionSha: 'e'.repeat(40) }, 'HUB_COMMIT_MISMATCH', /pinned/],
    ['the tree belongs to another commit', { treeCommitHeader: 'e'.repeat(40) }, 'HUB_COMMIT_MISMATCH', /eeee/],
    ['garbage JSON', { treeBody: () => 'nope' }, 'HUB_RESPONSE_INVALID', /JSON/],
  ] as const)('a lie refused: %s', async (_n, lies, code, msg) => {
    const hub = await start({ lies });
    await expect(verifyOutputsOnHub(REF, OUTPUTS, { endpoint: hub.url })).rejects.toMatchObject({ code, message: expect.stringMatching(msg) });
  });
  test('as a verifyAibom artifacts callback: names in, ArtifactReport out, full report to onReport', async () => {
    const hub = await start();
    let full: HubCompareReport | undefined;
    const v = hubArtifactVerifier(REF, { endpoint: hub.url, onReport: (r) => (full = r) });
    const rep = await v(OUTPUTS);
    expect(rep).toEqual({ ok: true, matched: ['config.json', 'model.safetensors', 'tokenizer/tokenizer.json'], missing: [], extra: [], mismatched: [] });
    expect(full?.counts.conventional).toBe(2);
  });
});

function sampleSafetensors(n: number): Uint8Array {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'U8', shape: [n], data_offsets: [0, n] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return new Uint8Array(Buffer.concat([len, header, Buffer.alloc(n, 1)]));
}

describe('fuzz: whatever the Hub answers, only typed errors come out', () => {
  test('random bytes and random JSON as tree pages and revision answers', async () => {
    let body: string | Buffer = '[]';
    let sha: string | undefined;
    const hub = await start({ lies: { treeBody: () => body, get revisionSha() { return sha; } } });
    const json = fc.json({ maxDepth: 4 });
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    const entry = fc.record({ type: fc.constantFrom('file', 'directory'), path: fc.constantFrom('a', 'b/c', '../x', 'model.safetensors'), size: fc.integer(), oid: hex(40), lfs: fc.option(fc.record({ oid: hex(64), size: fc.integer(), pointerSize: fc.nat(2000) })) }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)), json, fc.array(entry, { maxLength: 6 }).map((a) => JSON.stringify(a))), fc.option(fc.string({ maxLength: 50 })), async (b, s) => {
        body = b;
        sha = s ?? undefined;
        try {
          await verifyOutputsOnHub(REF, OUTPUTS, { endpoint: hub.url });
        } catch (e) {
          if (!(e instanceof VerificationError || e instanceof MalformedInputError)) throw e;
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
