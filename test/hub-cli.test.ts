// `aicert-verify DOC --hf ORG/NAME@REV --hf-endpoint URL` on the demo AIBOM against the loopback Hub, honest and lying,
// and the library entry verifyAibomWithHub.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { verifyAibomWithHub } from '../src/node/hub-verify.js';
import { runCli } from './helpers/cli.js';
import { startFakeHub, type FakeFile, type FakeHub, type FakeHubLies, type FakeRepo } from './helpers/fake-hub.js';

const demo = resolve(import.meta.dirname, '..', 'testvectors', 'demo');
const COMMIT = '3c1b0d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192';
const REF = `acme/demo-ft@${COMMIT}`;
const hubs: FakeHub[] = [];
afterEach(async () => {
  while (hubs.length) await hubs.pop()!.close();
});

/** The demo's outputs as a Hub commit: weights in LFS, JSON as plain git blobs, plus a README and .gitattributes. */
function demoRepo(extra: FakeFile[] = [], drop?: string): FakeRepo {
  const files: FakeFile[] = [];
  const walk = (d: string, pre: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${pre}${n}/`);
      else files.push({ path: pre + n, bytes: new Uint8Array(readFileSync(p)), lfs: !n.endsWith('.json') });
    }
  };
  walk(join(demo, 'weights'), '');
  const t = (s: string) => new TextEncoder().encode(s);
  files.push({ path: 'README.md', bytes: t('# demo\n') }, { path: '.gitattributes', bytes: t('*.zip filter=lfs\n') });
  return { kind: 'model', repo: 'acme/demo-ft', commit: COMMIT, files: [...files.filter((f) => f.path !== drop), ...extra] };
}
const start = async (repo = demoRepo(), lies?: FakeHubLies) => {
  const h = await startFakeHub({ repos: [repo], lies });
  hubs.push(h);
  return h;
};
const base = ['verify', join(demo, 'aibom.json'), '--trust-root', join(demo, 'trust-root.pem'), '--policy', join(demo, 'policy.json')];

describe('aicert-verify --hf', () => {
  test('an honest commit verifies (exit 0), with every file listed', async () => {
    const hub = await start();
    const r = await runCli([...base, '--hf', REF, '--hf-endpoint', hub.url]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/Hub acme\/demo-ft@3c1b.*: 3 match, 0 mismatch, 0 missing, 0 not bound, 0 not checkable, 2 conventional/);
    expect(r.out).toMatch(/✓ lora-out\/adapter_model\.safetensors {2}sha256 = LFS oid: safetensors header checked/);
    expect(r.out).toMatch(/✓ lora-out\/adapter_config\.json {2}sha256 of the bytes/);
    expect(r.out).toMatch(/– README\.md {2}conventional/);
    expect(r.out).toMatch(/✓ artifacts/);
    // no weight was downloaded whole: LFS content only by range
    expect(hub.requests.filter((q) => q.url.startsWith('/lfs-cdn/')).every((q) => q.range !== undefined)).toBe(true);
  });
  test('--json carries the per-file report', async () => {
    const hub = await start();
    const r = await runCli([...base, '--hf', REF, '--hf-endpoint', hub.url, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.valid).toBe(true);
    expect(j.hub.counts).toMatchObject({ match: 3, conventional: 2 });
  });
  test('--ignore GLOB applies to the Hub listing: an unbound file it names is listed, not failed', async () => {
    const extra = { path: 'notes/eval.txt', bytes: new TextEncoder().encode('eval\n') };
    const hub = await start(demoRepo([extra]));
    const without = await runCli([...base, '--hf', REF, '--hf-endpoint', hub.url]);
    expect(without.code, without.out + without.err).toBe(1);
    expect(without.out).toMatch(/notes\/eval\.txt/);
    const r = await runCli([...base, '--hf', REF, '--hf-endpoint', hub.url, '--ignore', 'notes/*.txt', '--json']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(JSON.parse(r.out).hub.counts).toMatchObject({ match: 3, conventional: 3 });
  });
  test('HF_ENDPOINT is the default endpoint', async () => {
    const hub = await start();
    const old = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = hub.url;
    try {
      expect((await runCli([...base, '--hf', REF])).code).toBe(0);
    } finally {
      if (old === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = old;
    }
  });
  test.each([
    ['an extra weight file', () => demoRepo([{ path: 'pytorch_model.bin', bytes: new Uint8Array(64).fill(1), lfs: true }]), undefined, /pytorch_model\.bin/, 'ARTIFACT_MISMATCH'],
    ['a weight whose oid differs', () => demoRepo([{ path: 'finetuned-model.zip', bytes: new Uint8Array(64).fill(2), lfs: true }], 'finetuned-model.zip'), undefined, /finetuned-model\.zip/, 'ARTIFACT_MISMATCH'],
    ['a bound file missing', () => demoRepo([], 'lora-out/adapter_config.json'), undefined, /adapter_config\.json/, 'ARTIFACT_MISSING'],
    ['non-LFS bytes that differ from the blob id', () => demoRepo(), { serve: (p: string, b: Uint8Array) => (p.endsWith('adapter_config.json') ? b.map((x, i) => (i === 5 ? 0x20 : x)) : b) }, /adapter_config\.json/, 'HUB_CONTENT_MISMATCH'],
    ['a tree of another commit', () => demoRepo(), { revisionSha: 'd'.repeat(40) }, /dddd/, 'HUB_COMMIT_MISMATCH'],
    ['a redirect to another host', () => demoRepo(), { redirectLfsTo: 'http://127.0.0.7:7' }, /127\.0\.0\.7/, 'HUB_REDIRECT_REFUSED'],
  ])('a lying or different Hub: %s → exit 1, named', async (_n, repo, lies, named, code) => {
    const hub = await start(repo(), lies);
    const r = await runCli([...base, '--hf', REF, '--hf-endpoint', hub.url]);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/✗ artifacts/);
    expect(r.out).toMatch(named);
    expect(r.out).toMatch(new RegExp(`NOT VALID — ${code}`));
    const j = await runCli([...base, '--hf', REF, '--hf-endpoint', hub.url, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out).valid).toBe(false);
  });
  test.each([
    [['--hf', 'acme/demo-ft@main'], /branch or tag/],
    [['--hf', 'acme/demo-ft'], /no @REV/],
    [['--hf-endpoint', 'http://127.0.0.1:1'], /needs --hf/],
    [['--hf', REF, '--hf-endpoint', 'http://example.com'], /loopback/],
    [['--hf', REF, '--model', join(demo, 'weights')], /not both/],
  ])('bad usage %j → exit 2 before any request', async (args, msg) => {
    const r = await runCli([...base, ...args]);
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(msg);
  });
});

describe('verifyAibomWithHub', () => {
  test('one call: document and Hub commit', async () => {
    const hub = await start();
    const doc = readFileSync(join(demo, 'aibom.json'));
    const opts = { trustAnchors: [readFileSync(join(demo, 'trust-root.pem'))], policy: readFileSync(join(demo, 'policy.json')), hub: { endpoint: hub.url } };
    const r = await verifyAibomWithHub(doc, REF, opts);
    expect(r.valid).toBe(true);
    expect(r.hub?.ok).toBe(true);
    expect(r.hub?.commit).toBe(COMMIT);
    const lying = await start(demoRepo(), { treeCommitHeader: 'e'.repeat(40) });
    const bad = await verifyAibomWithHub(doc, REF, { ...opts, hub: { endpoint: lying.url } });
    expect(bad.valid).toBe(false);
    expect(bad.error?.code).toBe('HUB_COMMIT_MISMATCH');
  });
});
