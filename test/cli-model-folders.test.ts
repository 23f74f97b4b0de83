/**
 * `--model` on weights where they really are (spec/cli.md §Model folders): a Hugging Face cache snapshot built the
 * way huggingface_hub writes it (blobs/ named by digest, snapshots/<rev>/ of relative symlinks, refs/main), and a
 * downloaded repository folder (README.md, .gitattributes, .cache/huggingface/). Also: one physical file counts once,
 * FIFOs are refused at once, an empty folder is an error, and every missing or extra file is named in the verdict.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers/cli.js';

const DEMO = resolve(import.meta.dirname, '../testvectors/demo');
const dir = mkdtempSync(join(tmpdir(), 'aicert-folders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const verify = (...model: string[]) => ['verify', join(DEMO, 'aibom.json'), '--trust-root', join(DEMO, 'trust-root.pem'), '--policy', join(DEMO, 'policy.json'), ...model.flatMap((m) => ['--model', m])];
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const REV = 'a'.repeat(40);

/** The files of the demo weights, relative POSIX name -> bytes, plus the non-output files a repository carries. */
function repoFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(join(DEMO, 'weights'), p), readFileSync(p));
    }
  };
  walk(join(DEMO, 'weights'));
  files.set('README.md', Buffer.from('---\nlicense: apache-2.0\n---\n# tuned\n'));
  files.set('.gitattributes', Buffer.from('*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.zip filter=lfs diff=lfs merge=lfs -text\n'));
  return files;
}

/** A cache the way huggingface_hub lays it out: blobs by digest, snapshot entries as relative symlinks. */
function hfCache(name: string, files: Map<string, Buffer>): string {
  const repo = join(dir, name, 'hub', 'models--aicert-demo--tuned');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), REV);
  const snap = join(repo, 'snapshots', REV);
  for (const [n, b] of files) {
    // LFS files are stored under their sha256, small git files under their git blob id; both are plain names
    const blob = join(repo, 'blobs', sha(b));
    writeFileSync(blob, b);
    const link = join(snap, n);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), blob), link);
  }
  return snap;
}

describe('--model on a Hugging Face cache snapshot', () => {
  test('VALID: every bound file matches through the cache symlinks; README.md and .gitattributes are listed, not failed', async () => {
    const snap = hfCache('c1', repoFiles());
    const r = await runCli(verify(snap));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^VALID — 3 of 3 weight files match; 2 non-output files listed/m);
    expect(r.out).toMatch(/Not outputs \(listed, not checked\):\n {2}\.gitattributes {2}\(git attributes/);
    const j = JSON.parse((await runCli([...verify(snap), '--json'])).out);
    expect(j.valid).toBe(true);
    expect(j.artifacts.conventional.map((c: { name: string }) => c.name)).toEqual(['.gitattributes', 'README.md']);
  });

  test('an extra pytorch_model.bin next to the certified weights fails, named in the verdict', async () => {
    const files = repoFiles();
    files.set('pytorch_model.bin', Buffer.from('pickled weights'));
    const r = await runCli(verify(hfCache('c2', files)));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^NOT VALID — ARTIFACT_MISMATCH: 3 of 3 weight files match; not bound: pytorch_model\.bin/m);
  });

  test('a snapshot link that leaves the cache\'s own blobs/ is refused (exit 2)', async () => {
    const snap = hfCache('c3', repoFiles());
    writeFileSync(join(dir, 'outside.bin'), 'x');
    symlinkSync(join(dir, 'outside.bin'), join(snap, 'extra.bin'));
    const r = await runCli(verify(snap));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/outside this cache's blobs/);
  });

  test('a folder merely named snapshots/ without a blobs/ sibling gets no exception', async () => {
    const snap = join(dir, 'fake', 'models--x--y', 'snapshots', REV);
    mkdirSync(snap, { recursive: true });
    writeFileSync(join(dir, 'fake', 'target.bin'), 'x');
    symlinkSync(join(dir, 'fake', 'target.bin'), join(snap, 'a.bin'));
    expect((await runCli(verify(snap))).code).toBe(2);
  });
});

describe('--model on a downloaded repository folder', () => {
  const make = (name: string, files = repoFiles()) => {
    const d = join(dir, name);
    for (const [n, b] of files) {
      mkdirSync(dirname(join(d, n)), { recursive: true });
      writeFileSync(join(d, n), b);
    }
    mkdirSync(join(d, '.cache', 'huggingface', 'download'), { recursive: true });
    writeFileSync(join(d, '.cache', 'huggingface', 'download', 'README.md.metadata'), 'x\n');
    return d;
  };

  test('VALID with the model card, git attributes and download metadata listed', async () => {
    const r = await runCli(verify(make('dl1')));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^VALID — 3 of 3 weight files match; 3 non-output files listed/m);
  });

  test('--ignore GLOB adds to the list; without it an unknown file fails', async () => {
    const files = repoFiles();
    files.set('notes/eval.txt', Buffer.from('eval notes'));
    const d = make('dl2', files);
    expect((await runCli(verify(d))).code).toBe(1);
    const r = await runCli([...verify(d), '--ignore', 'notes/**']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/notes\/eval\.txt {2}\(ignored \(--ignore\)\)/);
    expect((await runCli([...verify(d), '--ignore', '*.txt'])).code).toBe(0);
  });

  test('a deleted weight file is named; long lists are bounded then counted', async () => {
    const files = repoFiles();
    files.delete('lora-out/adapter_model.safetensors');
    for (let i = 0; i < 12; i++) files.set(`junk-${String(i).padStart(2, '0')}.bin`, Buffer.from([i]));
    const r = await runCli(verify(make('dl3', files)));
    expect(r.code).toBe(1);
    const verdict = r.out.slice(r.out.lastIndexOf('\nNOT VALID') + 1).replace(/\n +/g, ' ');
    expect(verdict).toMatch(/missing: lora-out\/adapter_model\.safetensors/);
    expect(verdict).toMatch(/not bound: junk-00\.bin, junk-01\.bin, junk-02\.bin, junk-03\.bin, junk-04\.bin and 7 more/);
    // wrapped: no line longer than the report width
    for (const l of r.out.split('\n')) if (/^(NOT VALID| {2}\S)/.test(l)) expect(l.length).toBeLessThanOrEqual(200);
  });
});

describe('inputs on disk', () => {
  test('--model DIR --model DIR/x takes the file once', async () => {
    const w = join(dir, 'once');
    cpSync(join(DEMO, 'weights'), w, { recursive: true });
    const r = await runCli([...verify(w, join(w, 'finetuned-model.zip')), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).artifacts.matched).toHaveLength(3);
  });

  test('an unbound name (sorted after it) hard-linked to a bound file is judged, and fails (was: deduplicated by inode, VALID)', async () => {
    const w = join(dir, 'hardlink');
    cpSync(join(DEMO, 'weights'), w, { recursive: true });
    linkSync(join(w, 'finetuned-model.zip'), join(w, 'z-backdoor.zip'));
    expect(statSync(join(w, 'z-backdoor.zip')).nlink).toBe(2);
    const r = await runCli([...verify(w), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).artifacts.extra.map((x: { name: string }) => x.name)).toEqual(['z-backdoor.zip']);
  });

  test('--model FIFO is refused at once (exit 2), not read', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli(verify(fifo));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/FIFO/);
  });

  test('an empty folder is an error for hash and verify', async () => {
    mkdirSync(join(dir, 'empty'));
    expect((await runCli(['hash', join(dir, 'empty')])).code).toBe(2);
    expect((await runCli(verify(join(dir, 'empty')))).code).toBe(2);
  });

  test('hash accepts a backslash in a file name and prints it the sha256sum way', async () => {
    const d = join(dir, 'bs');
    mkdirSync(d);
    writeFileSync(join(d, 'a\\b.bin'), 'x');
    const r = await runCli(['hash', d]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`\\${sha('x')}  ${d}/a\\\\b.bin\n`);
  });

  test('hostile file names on disk are escaped in the report and cannot forge lines', async () => {
    const w = join(dir, 'hostile');
    cpSync(join(DEMO, 'weights'), w, { recursive: true });
    writeFileSync(join(w, 'x\n  Base model   evil-model @ 0000\nVALID \u202e.bin'), 'x');
    const r = await runCli(verify(w));
    expect(r.code).toBe(1);
    expect(r.out).not.toMatch(/^ {2}Base model {3}evil/m);
    expect(r.out.split('\n').filter((l) => /^VALID/.test(l))).toEqual([]);
    expect(r.out).toContain('x\\n  Base model   evil-model @ 0000\\nVALID \\u{202e}.bin');
  });
});

describe('library: verifyModel (document + files in one call)', () => {
  test('the README example: a cache snapshot verifies, and the per-file report is returned', async () => {
    const { verifyModel } = await import('../src/node/index.js');
    const snap = hfCache('lib', repoFiles());
    const r = await verifyModel(readFileSync(join(DEMO, 'aibom.json')), {
      trustAnchors: [readFileSync(join(DEMO, 'trust-root.pem'), 'utf8')],
      policy: readFileSync(join(DEMO, 'policy.json')),
      model: [snap],
    });
    expect(r.valid).toBe(true);
    expect(r.artifacts!.matched.map((m) => m.name)).toEqual(['finetuned-model.zip', 'lora-out/adapter_config.json', 'lora-out/adapter_model.safetensors']);
    expect(r.artifacts!.conventional.map((c) => c.name)).toEqual(['.gitattributes', 'README.md']);
    const bad = await verifyModel(readFileSync(join(DEMO, 'aibom.json')), { trustAnchors: [readFileSync(join(DEMO, 'trust-root.pem'), 'utf8')], policy: readFileSync(join(DEMO, 'policy.json')), model: [join(snap, 'README.md')] });
    expect(bad.valid).toBe(false);
  });
});
