/**
 * Sandbox backends and output collection of the runner, without a TPM. podman cannot run containers on this CI
 * host (crun refuses its hybrid cgroup layout), so its argv and the image-id handshake are tested against a
 * recording stand-in for the podman CLI; bubblewrap's argv is checked here and run for real in
 * runner-hostile.test.ts. The output collector is fed what a hostile trainer can leave (device node made by the
 * test as root, symlinked folder, FIFO).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectOutputs } from '../src/runner/outputs.js';
import { bwrapBackend, checkReadOnlyPaths, podmanBackend, SandboxError, type SandboxMounts } from '../src/runner/sandbox.js';
import { sha256hex, tempDir } from './helpers/runner-rig.js';

const IMAGE = `registry.example/aicert/axolotl@sha256:${'c'.repeat(64)}`;
const RUNTIME_ID = 'd'.repeat(64);
const m: SandboxMounts = { modelDir: '/srv/m', datasetDir: '/srv/d', datasetFile: 'data/train.jsonl', configFile: '/w/run/aicert.yaml', outputDir: '/w/run/outputs' };

describe('podman backend (argv; podman cannot run containers here)', () => {
  it('creates a confined container from the digest-pinned image and measures the id podman reports', async () => {
    const calls: string[][] = [];
    const exec = (async (_bin: string, args: string[]) => {
      calls.push(args);
      return { stdout: args[0] === 'container' ? `sha256:${RUNTIME_ID}\n` : '', stderr: '' };
    }) as never;
    const b = podmanBackend({ image: IMAGE, runner: exec });
    const p = await b.prepare(['python', '-m', 'axolotl.cli.train', '/aicert/config.yaml'], m);
    const create = calls[0]!;
    const pairs = (flag: string) => create.flatMap((a, i) => (a === flag ? [create[i + 1]] : []));
    expect(create[0]).toBe('create');
    expect(pairs('--network')).toEqual(['none']);
    expect(pairs('--cap-drop')).toEqual(['all']);
    expect(pairs('--security-opt')).toContain('no-new-privileges');
    expect(pairs('--user')).toEqual(['65534:65534']);
    expect(pairs('--pull')).toEqual(['never']);
    expect(create).toContain('--read-only');
    expect(create).not.toContain('--device');
    expect(create).not.toContain('--privileged');
    expect(pairs('-v')).toEqual(['/srv/m:/aicert/model:ro', '/srv/d:/aicert/dataset:ro', '/w/run/aicert.yaml:/aicert/config.yaml:ro', '/w/run/outputs:/aicert/output:rw']);
    expect(pairs('--env')).toEqual(expect.arrayContaining(['HF_HUB_OFFLINE=1', 'TRANSFORMERS_OFFLINE=1', 'HF_DATASETS_OFFLINE=1', 'AICERT_DATASET_FILE=/aicert/dataset/data/train.jsonl']));
    expect(create.slice(create.indexOf(IMAGE))).toEqual([IMAGE, 'python', '-m', 'axolotl.cli.train', '/aicert/config.yaml']);
    // The image id is asked from the runtime for that very container, never taken from the command line.
    expect(calls[1]!.slice(0, 3)).toEqual(['container', 'inspect', '--format']);
    expect(p.image).toEqual({ name: 'registry.example/aicert/axolotl', id: `sha256:${RUNTIME_ID}` });
    expect([p.file.endsWith('podman'), p.args[0], p.args[1]]).toEqual([true, 'start', '--attach']);
    await p.cleanup();
    expect(calls.at(-1)!.slice(0, 2)).toEqual(['rm', '--force']);
  });

  it('refuses an image not pinned by digest, and a runtime answer that is not an image id', async () => {
    expect(() => podmanBackend({ image: 'axolotl:latest' })).toThrow(SandboxError);
    const exec = (async (_b: string, a: string[]) => ({ stdout: a[0] === 'container' ? 'latest\n' : '', stderr: '' })) as never;
    await expect(podmanBackend({ image: IMAGE, runner: exec }).prepare(['x'], m)).rejects.toThrow(/podman reported image id/);
  });
});

describe('bubblewrap backend (argv)', () => {
  it('unshares every namespace and binds only the inputs read-only and the outputs read-write', async () => {
    const a = await bwrapBackend({ readOnly: ['/opt/trainer'] }).argv(['python3', 'train.py'], m);
    for (const f of ['--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--new-session']) expect(a).toContain(f);
    const binds = (flag: string) => a.flatMap((x, i) => (x === flag ? [`${a[i + 1]}=>${a[i + 2]}`] : []));
    expect(binds('--bind')).toEqual(['/w/run/outputs=>/aicert/output']);
    expect(binds('--ro-bind')).toEqual(expect.arrayContaining(['/usr=>/usr', '/opt/trainer=>/opt/trainer', '/srv/m=>/aicert/model', '/srv/d=>/aicert/dataset', '/w/run/aicert.yaml=>/aicert/config.yaml']));
    expect(a).not.toContain('--dev-bind');
    expect(a.join(' ')).not.toMatch(/\/sys|tpm|\/w\/tls|\/w (?!run)/);
    expect(a.slice(a.indexOf('--'))).toEqual(['--', 'python3', 'train.py']);
  });

  it('refuses read-only paths that would expose the runner\'s folder or TPM socket', () => {
    expect(() => checkReadOnlyPaths(['/w'], ['/w'])).toThrow(/would expose/);
    expect(() => checkReadOnlyPaths(['/w/run'], ['/w'])).toThrow(/would expose/);
    expect(() => checkReadOnlyPaths(['/srv'], ['/srv/runner'])).toThrow(/would expose/);
    expect(() => checkReadOnlyPaths(['/'], ['/w'])).toThrow();
    expect(() => checkReadOnlyPaths(['relative'], ['/w'])).toThrow(/absolute/);
    expect(() => checkReadOnlyPaths(['/opt/trainer'], ['/w', '/tmp/swtpm.sock'])).not.toThrow();
  });
});

describe('output collection', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => (tmp = await tempDir('aicert-collect-')));
  afterAll(async () => tmp?.rm());

  it('copies regular files and hashes the copy', async () => {
    const from = join(tmp.dir, 'ok'), into = join(tmp.dir, 'ok-copy');
    await mkdir(join(from, 'a/b'), { recursive: true });
    await writeFile(join(from, 'a/b/w.bin'), Buffer.alloc(5 << 20, 3));
    await writeFile(join(from, 'z.json'), '{}');
    const got = await collectOutputs(from, into);
    expect(got).toEqual([
      { path: 'a/b/w.bin', size: 5 << 20, sha256: sha256hex(Buffer.alloc(5 << 20, 3)) },
      { path: 'z.json', size: 2, sha256: sha256hex('{}') },
    ]);
    expect(sha256hex(await readFile(join(into, 'a/b/w.bin')))).toBe(sha256hex(Buffer.alloc(5 << 20, 3)));
  });

  const root = process.getuid?.() === 0;
  it.each([
    ['a device node', async (d: string) => execFileSync('mknod', [join(d, 'null'), 'c', '1', '3']), /null is a device node/, !root],
    ['a symlinked folder', async (d: string) => symlink('/etc', join(d, 'etc')), /etc is a symlink/, false],
    ['a FIFO', async (d: string) => execFileSync('mkfifo', [join(d, 'p')]), /p is a FIFO/, spawnSync('mkfifo', ['--version']).status !== 0],
  ] as const)('fails on %s', async (_what, make, msg, skip) => {
    if (skip) return console.warn('NOTICE: not root; the device-node case is skipped');
    const from = join(tmp.dir, `bad-${Math.random().toString(36).slice(2)}`);
    await mkdir(from);
    await writeFile(join(from, 'model.bin'), 'x');
    await make(from);
    await expect(collectOutputs(from, `${from}-copy`)).rejects.toThrow(msg);
  });
});
