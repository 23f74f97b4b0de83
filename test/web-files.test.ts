// The page's weight check (src/web/files.ts) gives the verdict the CLI's --model gives for the same files: a folder's
// files are bound by name only, and a loose file with an unbound name stands for at most one output not yet matched.
// The CLI's own comparison (modelVerifier over the same files on disk) is the oracle.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { modelVerifier } from '../src/node/model-verifier.js';
import { compareFiles, type GivenFile } from '../src/web/files.js';

const root = mkdtempSync(join(tmpdir(), 'aicert-web-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const hashAll = async (files: GivenFile[]) => new Map(await Promise.all(files.map(async (f) => [f.name, createHash('sha256').update(new Uint8Array(await f.file.arrayBuffer())).digest('hex')] as const)));
const A = 'bound weights A';
const expected = [{ name: 'a.bin', sha256: sha(A) }];

/** Writes `files` under a fresh folder; returns the folder and the page's view of them. */
function lay(label: string, files: Record<string, string>): { dir: string; given: GivenFile[] } {
  const dir = join(root, label);
  for (const [n, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, n)), { recursive: true });
    writeFileSync(join(dir, n), c);
  }
  return { dir, given: Object.entries(files).map(([name, c]) => ({ name, file: new Blob([c]) })) };
}

describe('page weight check agrees with the CLI', () => {
  test('folder: a copy of a bound file under another path is not bound (extra), as with --model DIR', async () => {
    const { dir, given } = lay('copy', { 'a.bin': A, 'copy/a.bin': A });
    const cli = await modelVerifier([dir])(expected);
    const page = await compareFiles(expected, given, true, hashAll);
    expect(cli.ok).toBe(false);
    expect(page.ok).toBe(cli.ok);
    expect(page.extra.map((x) => x.name)).toEqual(cli.extra);
  });

  test('folder: the bound name missing, its content under another name, fails as with --model DIR', async () => {
    const { dir, given } = lay('moved', { 'b.bin': A });
    const cli = await modelVerifier([dir])(expected);
    const page = await compareFiles(expected, given, true, hashAll);
    expect(cli.ok).toBe(false);
    expect(page.ok).toBe(false);
    expect(page.outputs.get('a.bin')).toBe('missing');
  });

  test('loose files: two unbound names with one output\'s content, one stands for it and the other is extra', async () => {
    const { dir, given } = lay('loose', { 'x.bin': A, 'y.bin': A });
    const cli = await modelVerifier([join(dir, 'x.bin'), join(dir, 'y.bin')])(expected);
    const page = await compareFiles(expected, given, false, hashAll);
    expect(cli.ok).toBe(false);
    expect(page.ok).toBe(false);
    expect(page.matched).toHaveLength(1);
    expect(page.extra).toHaveLength(1);
  });

  test('loose file with an unbound name and a bound content still matches (VALID on both)', async () => {
    const { dir, given } = lay('single', { 'renamed.bin': A });
    const cli = await modelVerifier([join(dir, 'renamed.bin')])(expected);
    const page = await compareFiles(expected, given, false, hashAll);
    expect(cli.ok).toBe(true);
    expect(page.ok).toBe(true);
    expect(page.outputs.get('a.bin')).toBe('match');
  });
});
