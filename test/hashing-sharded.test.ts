// The sharded digest (spec/sharded-digest.md), recomputed independently with dd + openssl + xxd in a shell.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_SHARD_SIZE,
  hashPaths,
  parseShardedAlgorithm,
  shardedAlgorithm,
  shardedDigestFile,
  shardedRoot,
  shardRanges,
} from '../src/node/hashing.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicert-shard-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The root per the spec, computed by coreutils dd, xxd and openssl only (no code under test). */
function shellRoot(file: string, S: number): { root: string; shards: string[] } {
  const script = `
    F="$1"; S=$2; L=$(stat -c %s "$F"); n=$(( (L+S-1)/S ))
    for i in $(seq 0 $((n-1))); do dd if="$F" bs=$S skip=$i count=1 status=none | openssl dgst -sha256 -r | cut -c1-64; done > "$F.shards"
    { printf 'aicert-sharded-sha256\\0'; printf '%016x%016x' $S $L | xxd -r -p
      for i in $(seq 0 $((n-1))); do dd if="$F" bs=$S skip=$i count=1 status=none | openssl dgst -sha256 -binary; done
    } | openssl dgst -sha256 -r | cut -c1-64
    cat "$F.shards"`;
  const out = execFileSync('bash', ['-c', script, 'x', file, String(S)], { encoding: 'utf8' }).trim().split('\n');
  return { root: out[0]!, shards: out.slice(1) };
}

/** The spec's pattern file P: byte k is k mod 251. */
function patternFile(name: string, len: number): string {
  const p = join(dir, name);
  writeFileSync(p, Uint8Array.from({ length: len }, (_, k) => k % 251));
  return p;
}

describe('spec test vectors (spec/sharded-digest.md §4)', () => {
  test('P with S = 4096 and with the 1 GiB default; the empty file', async () => {
    const p = patternFile('P.bin', 10000);
    const vec = '482978149f01b5ca1e90730276391a0a9b11e8a3e4ba3baac6f23462a22a7805';
    expect(shellRoot(p, 4096).root).toBe(vec); // the table value is what dd+openssl give
    const d = await shardedDigestFile(p, { shardSize: 4096, workers: 2 });
    expect(d.algorithm).toBe('aicert-sharded-sha256-4096');
    expect(d.digest).toBe(vec);
    expect(d.shards).toEqual(shellRoot(p, 4096).shards);
    const big = await shardedDigestFile(p);
    expect(big.algorithm).toBe('aicert-sharded-sha256-1073741824');
    // The table's 1 GiB row, confirmed by dd+openssl; its single shard is SHA-256 of P (node:crypto).
    const gib = shellRoot(p, 2 ** 30);
    expect(gib.root).toBe('4a39202a35510276e4acbbf44083d0c6345b41a8709824e6e6b2c4c3b4904c91');
    expect(gib.shards).toEqual([createHash('sha256').update(readFileSync(p)).digest('hex')]);
    expect(big.digest).toBe(gib.root);
    const empty = patternFile('empty.bin', 0);
    expect(shellRoot(empty, 4096).root).toBe('78c6dec2ca86f62958f6b28345a0c31470c3a5ef6251e74faadb6e6040e3e9a2');
    expect((await shardedDigestFile(empty, { shardSize: 4096 })).digest).toBe('78c6dec2ca86f62958f6b28345a0c31470c3a5ef6251e74faadb6e6040e3e9a2');
  });
});

describe('random files against the shell computation', () => {
  const S = 65536;
  // sizes at and around shard boundaries, plus random ones
  const sizes = [1, S - 1, S, S + 1, 3 * S, 7 * S + 5, Math.floor(Math.random() * 40 * S)];
  for (const size of sizes) {
    test(`${size} bytes, S=${S}: 1 and 2 workers equal dd+openssl`, async () => {
      const p = join(dir, `r-${size}.bin`);
      writeFileSync(p, randomBytes(size));
      const want = shellRoot(p, S);
      for (const workers of [1, 2]) {
        const [d] = await hashPaths([p], { sharded: S, workers });
        expect(d!.digest).toBe(want.root);
        expect(d!.shards).toEqual(want.shards);
        expect(d!.size).toBe(size);
      }
    });
  }

  test('a big file across cores (24 MiB, 1 MiB shards) equals the shell result, progress reaches the size', async () => {
    const p = join(dir, 'big.bin');
    writeFileSync(p, randomBytes(24 * 1024 * 1024));
    let done = 0;
    const d = await shardedDigestFile(p, { shardSize: 1024 * 1024, workers: 2, onProgress: (x) => (done = x) });
    expect(d.digest).toBe(shellRoot(p, 1024 * 1024).root);
    expect(done).toBe(24 * 1024 * 1024);
  });

  test('a directory in sharded mode: same order as whole-file mode, each entry equals the shell root', async () => {
    const m = join(dir, 'm');
    mkdirSync(join(m, 'sub'), { recursive: true });
    writeFileSync(join(m, 'sub', 'w.bin'), randomBytes(3 * S + 1));
    writeFileSync(join(m, 'a.bin'), randomBytes(S));
    const r = await hashPaths([m], { sharded: S, workers: 2 });
    expect(r.map((x) => x.name)).toEqual(['a.bin', 'sub/w.bin']);
    for (const x of r) expect(x.digest).toBe(shellRoot(join(m, x.name), S).root);
  });

  test('a pipe is sharded on the fly to the same root as the file', async () => {
    const p = join(dir, `r-${7 * S + 5}.bin`);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "${p}" > "${fifo}"`]);
    const exited = new Promise((r) => writer.on('exit', r));
    const [d] = await hashPaths([fifo], { sharded: S });
    await exited;
    expect(d!.digest).toBe(shellRoot(p, S).root);
  });
});

describe('parameters', () => {
  test('algorithm names: default, bounds, no leading zeros', async () => {
    expect(shardedAlgorithm()).toBe('aicert-sharded-sha256-1073741824');
    expect(DEFAULT_SHARD_SIZE).toBe(2 ** 30);
    expect(parseShardedAlgorithm('aicert-sharded-sha256-1073741824')).toBe(2 ** 30);
    expect(parseShardedAlgorithm('aicert-sharded-sha256-4096')).toBe(4096);
    for (const bad of ['aicert-sharded-sha256-4095', 'aicert-sharded-sha256-01073741824', 'aicert-sharded-sha256-1e9', 'aicert-sharded-sha256-', `aicert-sharded-sha256-${2 ** 40 + 1}`, 'sha256', 'sha256-sharded-1000000000']) {
      expect(parseShardedAlgorithm(bad)).toBeUndefined();
    }
    expect(() => shardedAlgorithm(100)).toThrow(TypeError);
    await expect(hashPaths([dir], { sharded: 1 })).rejects.toThrow(TypeError);
  });

  test('shard ranges tile the file; root needs exactly ceil(L/S) digests', () => {
    expect(shardRanges(0, 4096)).toEqual([]);
    expect(shardRanges(8193, 4096)).toEqual([[0, 4096], [4096, 8192], [8192, 8193]]);
    expect(() => shardedRoot(8193, 4096, ['0'.repeat(64)])).toThrow(TypeError);
    expect(() => shardedRoot(1, 4096, ['0'.repeat(63)])).toThrow(TypeError);
  });

  test('a file truncated after the walk is an error, not a digest of a prefix', async () => {
    const p = join(dir, 'shrink.bin');
    writeFileSync(p, randomBytes(5 * 4096));
    const { walkPaths, hashEntries } = await import('../src/node/hashing.js');
    const entries = await walkPaths([p]);
    const run = hashEntries(entries, { shardSize: 4096, hwm: 4096, workers: 1, onProgress: () => truncateSync(p, 4096) });
    await expect(run).rejects.toThrow(/shrank|changed size/);
  });
});
