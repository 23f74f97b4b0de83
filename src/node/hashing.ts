/**
 * Weights at disk speed: whole-file SHA-256 (what hubs compare with LFS oids) and the aicert sharded digest
 * (spec/sharded-digest.md), over files and directories, on worker threads when there is more than one unit of work.
 * The calling thread reads 4 MiB chunks double-buffered, so the next read is in flight while a chunk is hashed.
 */
import { createHash, hash as oneShot } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, promises as fsp, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { MalformedInputError } from '../errors.js';
import { defaultWorkers, HashPool, type RangeResult, type RangeTask } from './hash-worker.js';
import { walkPaths, type FileEntry, type WalkOptions } from './walk.js';

export { compareCodePoints, validateArtifactName, walkPaths, type FileEntry, type WalkOptions } from './walk.js';

/** Read size (highWaterMark). 4 MiB measured fastest on a warm 2 GiB file (see bench/hash.bench.mjs). */
export const DEFAULT_READ_SIZE = 4 * 1024 * 1024;
/**
 * Ranges up to this size are hashed on the calling thread with synchronous reads into one reused buffer: a small
 * file then costs a few system calls, not five thread hand-offs and two fresh read buffers.
 */
export const SMALL_RANGE = 1024 * 1024;
/** The worker pool starts only when the ranges above SMALL_RANGE add up to this much (below it, start-up costs more). */
export const POOL_MIN_BYTES = 64 * 1024 * 1024;
/** Default shard size of the sharded digest: 1 GiB. */
export const DEFAULT_SHARD_SIZE = 1024 * 1024 * 1024;
/** Shard size bounds (spec/sharded-digest.md §2): a verifier refuses names outside them. */
const MIN_SHARD_SIZE = 4096;
const MAX_SHARD_SIZE = 2 ** 40;
const SHARDED_PREFIX = 'aicert-sharded-sha256-';
/** Domain-separation tag at the start of the root pre-image. */
const ROOT_TAG = new TextEncoder().encode('aicert-sharded-sha256\0');

export interface HashFileOptions {
  highWaterMark?: number;
  /** Called with the byte count of every chunk hashed. */
  onProgress?: (bytes: number) => void;
}

/** Progress across a whole hashPaths call; total is undefined when a stream (stdin, pipe) is included. */
export type PathsProgress = (done: number, total: number | undefined) => void;

export interface HashPathsOptions extends WalkOptions {
  /** true or a shard size: compute the sharded digest instead of whole-file SHA-256. */
  sharded?: boolean | number;
  /** Worker threads (default: os.availableParallelism()); 1 hashes on the calling thread. */
  workers?: number;
  highWaterMark?: number;
  onProgress?: PathsProgress;
}

/** The digest of one file. `algorithm` is 'sha256' or `aicert-sharded-sha256-<shard size>`. */
export interface FileDigest {
  path: string;
  name: string;
  size: number;
  algorithm: string;
  digest: string;
  /** Sharded mode: the shard digests in order (hex). */
  shards?: string[];
}

/** The algorithm name of the sharded digest for a shard size, e.g. `aicert-sharded-sha256-1073741824`. */
export function shardedAlgorithm(shardSize: number = DEFAULT_SHARD_SIZE): string {
  checkShardSize(shardSize);
  return SHARDED_PREFIX + String(shardSize);
}

/** The shard size named by an algorithm, or undefined if the name is not a well-formed sharded-digest name. */
export function parseShardedAlgorithm(name: string): number | undefined {
  if (typeof name !== 'string' || !name.startsWith(SHARDED_PREFIX)) return undefined;
  const num = name.slice(SHARDED_PREFIX.length);
  if (!/^[1-9][0-9]{0,15}$/.test(num)) return undefined;
  const n = Number(num);
  return n >= MIN_SHARD_SIZE && n <= MAX_SHARD_SIZE ? n : undefined;
}

/** A read size is a positive integer up to 1 GiB. */
function checkReadSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 30) throw new TypeError(`highWaterMark must be an integer in [1, 2^30], got ${n}`);
  return n;
}

function checkShardSize(n: number): void {
  if (!Number.isSafeInteger(n) || n < MIN_SHARD_SIZE || n > MAX_SHARD_SIZE) {
    throw new TypeError(`shard size must be an integer in [${MIN_SHARD_SIZE}, 2^40], got ${n}`);
  }
}

/** Byte ranges [start, end) of the shards of a file of `size` bytes (none for an empty file). */
export function shardRanges(size: number, shardSize: number): Array<[number, number]> {
  checkShardSize(shardSize);
  const out: Array<[number, number]> = [];
  for (let s = 0; s < size; s += shardSize) out.push([s, Math.min(s + shardSize, size)]);
  return out;
}

/** Root = SHA-256("aicert-sharded-sha256" ‖ 0x00 ‖ u64be(shardSize) ‖ u64be(size) ‖ shard digests). */
export function shardedRoot(size: number, shardSize: number, shardDigests: readonly string[]): string {
  checkShardSize(shardSize);
  if (!Number.isSafeInteger(size) || size < 0) throw new TypeError('size must be a non-negative integer');
  if (shardDigests.length !== Math.ceil(size / shardSize)) throw new TypeError('wrong number of shard digests for this size');
  const head = Buffer.alloc(16);
  head.writeBigUInt64BE(BigInt(shardSize), 0);
  head.writeBigUInt64BE(BigInt(size), 8);
  const h = createHash('sha256').update(ROOT_TAG).update(head);
  for (const d of shardDigests) {
    if (!/^[0-9a-f]{64}$/.test(d)) throw new TypeError('shard digest must be 64 lowercase hex characters');
    h.update(Buffer.from(d, 'hex'));
  }
  return h.digest('hex');
}

/**
 * Hashes bytes [start, end) of an already-resolved regular file on this thread (O_NOFOLLOW), with two reused
 * buffers: the read of chunk k+1 is in flight while chunk k is hashed (overlapped I/O, no per-chunk allocation).
 */
async function hashRangeHere(task: RangeTask, onProgress?: (n: number) => void): Promise<RangeResult> {
  const fh = await fsp.open(task.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)).catch((e: unknown) => {
    throw rangeIoError(task, e);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new MalformedInputError(`cannot read ${task.path}: not a regular file`, { path: task.path });
    const h = createHash('sha256');
    // buffers no larger than the range needs (plus one byte, so the end is seen in one read)
    const size = Math.min(task.highWaterMark, Math.max(64 * 1024, (task.end ?? st.size) - task.start + 1));
    const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    const readAt = (k: number, pos: number) => {
      const want = task.end === undefined ? size : Math.min(size, task.end - pos);
      return want > 0 ? fh.read(bufs[k]!, 0, want, pos) : Promise.resolve({ bytesRead: 0 });
    };
    let pos = task.start;
    let k = 0;
    let pending = readAt(0, pos);
    for (;;) {
      const { bytesRead } = await pending.catch((e: unknown) => {
        throw rangeIoError(task, e);
      });
      if (bytesRead === 0) break;
      const cur = bufs[k]!;
      pos += bytesRead;
      k ^= 1;
      // start the next read before hashing this chunk
      pending = readAt(k, pos);
      h.update(bytesRead === size ? cur : cur.subarray(0, bytesRead));
      onProgress?.(bytesRead);
    }
    if (task.end !== undefined && pos !== task.end) {
      throw new MalformedInputError(`file shrank while hashing: got ${pos - task.start} of ${task.end - task.start} bytes`, { path: task.path, offset: pos });
    }
    return { sha256: h.digest('hex'), bytes: pos - task.start };
  } finally {
    await fh.close();
  }
}

let smallBuf: Buffer | undefined;

/** hashRangeHere for a small range: synchronous positional reads into one module-wide buffer (O_NOFOLLOW). */
function hashRangeSync(task: RangeTask, onProgress?: (n: number) => void): RangeResult {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after the walk must not block the open
    fd = openSync(task.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw rangeIoError(task, e);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new MalformedInputError(`cannot read ${task.path}: not a regular file`, { path: task.path });
    smallBuf ??= Buffer.allocUnsafe(SMALL_RANGE);
    const size = Math.min(task.highWaterMark, SMALL_RANGE);
    let pos = task.start;
    // A whole file that one short read returns: one-shot digest, no hash object (most files of a small-file tree).
    const first = task.end === undefined ? size : Math.min(size, task.end - pos);
    const n0 = first > 0 ? readSync(fd, smallBuf, 0, first, pos) : 0;
    if (n0 > 0) onProgress?.(n0);
    if (task.end === undefined && n0 < first) return { sha256: oneShot('sha256', smallBuf.subarray(0, n0), 'hex'), bytes: n0 };
    const h = createHash('sha256').update(smallBuf.subarray(0, n0));
    pos += n0;
    for (;;) {
      const want = task.end === undefined ? size : Math.min(size, task.end - pos);
      if (want <= 0 || n0 === 0) break;
      const n = readSync(fd, smallBuf, 0, want, pos);
      if (n === 0) break;
      h.update(smallBuf.subarray(0, n));
      pos += n;
      onProgress?.(n);
      // a short read of a regular file is its end (saves a read per small file)
      if (n < want && task.end === undefined) break;
    }
    if (task.end !== undefined && pos !== task.end) {
      throw new MalformedInputError(`file shrank while hashing: got ${pos - task.start} of ${task.end - task.start} bytes`, { path: task.path, offset: pos });
    }
    return { sha256: h.digest('hex'), bytes: pos - task.start };
  } catch (e) {
    throw rangeIoError(task, e);
  } finally {
    closeSync(fd);
  }
}

function rangeIoError(task: RangeTask, e: unknown): MalformedInputError {
  if (e instanceof MalformedInputError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new MalformedInputError(`cannot read ${task.path}: ${code === 'ELOOP' ? 'symlink refused (ELOOP)' : code}`, { path: task.path }, { cause: e });
}

/** Hashes a readable (stdin, pipe) as whole-file SHA-256 and, with a shard size, as shards on the fly. */
async function hashReadable(src: Readable | AsyncIterable<Uint8Array>, shardSize: number | undefined, onProgress?: (n: number) => void) {
  const whole = createHash('sha256');
  const shards: string[] = [];
  let shard = createHash('sha256');
  let inShard = 0;
  let size = 0;
  for await (const c of src as AsyncIterable<Uint8Array>) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    size += chunk.length;
    onProgress?.(chunk.length);
    if (shardSize === undefined) {
      whole.update(chunk);
      continue;
    }
    // split the chunk at shard boundaries
    for (let off = 0; off < chunk.length; ) {
      const take = Math.min(shardSize - inShard, chunk.length - off);
      shard.update(chunk.subarray(off, off + take));
      off += take;
      inShard += take;
      if (inShard === shardSize) {
        shards.push(shard.digest('hex'));
        shard = createHash('sha256');
        inShard = 0;
      }
    }
  }
  if (inShard > 0) shards.push(shard.digest('hex'));
  return { sha256: whole.digest('hex'), size, shards };
}

/** Opens a stream entry (stdin or a named pipe/device) for reading. */
async function openStream(e: FileEntry): Promise<AsyncIterable<Uint8Array>> {
  if (e.fsPath === '-') return process.stdin;
  const fh = await fsp.open(e.fsPath, 'r').catch((err: unknown) => {
    throw rangeIoError({ path: e.display, start: 0, highWaterMark: 0 }, err);
  });
  return fh.createReadStream({ highWaterMark: DEFAULT_READ_SIZE });
}

/** SHA-256 of one file (symlinks given here are followed: the caller named the file). */
export async function hashFile(path: string, opts: HashFileOptions = {}): Promise<{ sha256: string; size: number }> {
  if (typeof path !== 'string') throw new TypeError('path must be a string');
  const isDir = await fsp.stat(path).then((s) => s.isDirectory(), () => false);
  if (isDir) throw new MalformedInputError(`${path} is a directory; use hashPaths`, { path });
  const [e] = await walkPaths([path]);
  if (!e) throw new MalformedInputError(`${path}: nothing to hash`, { path });
  if (e.kind === 'stream') {
    const r = await hashReadable(await openStream(e), undefined, opts.onProgress);
    return { sha256: r.sha256, size: r.size };
  }
  const task = { path: e.fsPath, start: 0, highWaterMark: checkReadSize(opts.highWaterMark ?? DEFAULT_READ_SIZE) };
  const r = e.size <= SMALL_RANGE ? hashRangeSync(task, opts.onProgress) : await hashRangeHere(task, opts.onProgress);
  return { sha256: r.sha256, size: r.bytes };
}

/**
 * Digests of files and directories (every regular file below, sorted POSIX names). Whole-file SHA-256 by default;
 * `sharded` gives the sharded digest. Work units (files, or shards) run on a pool of worker threads when there is
 * more than one; results come back in walk order.
 */
export async function hashPaths(paths: readonly string[], opts: HashPathsOptions = {}): Promise<FileDigest[]> {
  const shardSize = opts.sharded === true ? DEFAULT_SHARD_SIZE : typeof opts.sharded === 'number' ? opts.sharded : undefined;
  if (shardSize !== undefined) checkShardSize(shardSize);
  const hwm = checkReadSize(opts.highWaterMark ?? DEFAULT_READ_SIZE);
  const entries = await walkPaths(paths, opts);
  return hashEntries(entries, { shardSize, hwm, workers: opts.workers ?? defaultWorkers(), onProgress: opts.onProgress });
}

interface EntryPlan {
  shardSize: number | undefined;
  hwm: number;
  workers: number;
  onProgress: PathsProgress | undefined;
}

/** Hashes walked entries (also used by verifyArtifacts, which hashes only the bound ones). */
export async function hashEntries(entries: readonly FileEntry[], plan: EntryPlan): Promise<FileDigest[]> {
  const { shardSize } = plan;
  const hwm = checkReadSize(plan.hwm);
  if (shardSize !== undefined) checkShardSize(shardSize);
  const algorithm = shardSize === undefined ? 'sha256' : shardedAlgorithm(shardSize);
  // sizes are taken now, right before hashing, and re-checked after sharded hashing
  // (whole-file mode reads to the end, so the walk's size serves for progress and planning)
  const sizes = entries.map((e) => (e.kind !== 'file' ? 0 : shardSize === undefined ? e.size : sizeNow(e)));
  const total = entries.some((e) => e.kind === 'stream') ? undefined : sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const tick = plan.onProgress ? (n: number) => plan.onProgress!((done += n), total) : undefined;
  // one task per file (whole-file mode) or per shard
  const tasks: Array<{ entry: number; task: RangeTask }> = [];
  const firstTask: number[] = [];
  const taskCount: number[] = [];
  entries.forEach((e, i) => {
    firstTask[i] = tasks.length;
    taskCount[i] = 0;
    if (e.kind !== 'file') return;
    taskCount[i] = shardSize === undefined ? 1 : Math.ceil(sizes[i]! / shardSize);
    if (shardSize === undefined) tasks.push({ entry: i, task: { path: e.fsPath, start: 0, highWaterMark: hwm } });
    else for (const [start, end] of shardRanges(sizes[i]!, shardSize)) tasks.push({ entry: i, task: { path: e.fsPath, start, end, highWaterMark: hwm } });
  });
  const results: RangeResult[] = new Array(tasks.length);
  const len = (k: number) => rangeLen(tasks[k]!.task, sizes[tasks[k]!.entry]!);
  // small ranges on this thread (synchronously); large ones on the pool when they are worth starting it for
  const small: number[] = [];
  const large: number[] = [];
  tasks.forEach((_, k) => (len(k) <= SMALL_RANGE ? small : large).push(k));
  const largeBytes = large.reduce((a, k) => a + len(k), 0);
  const nWorkers = largeBytes >= POOL_MIN_BYTES ? Math.min(Math.max(1, Math.floor(plan.workers)), large.length) : 1;
  const pool = nWorkers > 1 ? new HashPool(nWorkers) : undefined;
  try {
    // largest first, so the last task to finish is a small one
    large.sort((a, b) => len(b) - len(a));
    const onPool = pool ? Promise.all(large.map((k) => pool.hash(tasks[k]!.task, tick).then((r) => void (results[k] = r)))) : undefined;
    onPool?.catch(() => undefined);
    for (let i = 0; i < small.length; i++) {
      results[small[i]!] = hashRangeSync(tasks[small[i]!]!.task, tick);
      // let the pool's messages through now and then
      if (pool && i % 64 === 63) await new Promise((r) => setImmediate(r));
    }
    if (onPool) await onPool;
    else for (const k of large) results[k] = await hashRangeHere(tasks[k]!.task, tick);
  } catch (e) {
    throw e instanceof MalformedInputError ? e : new MalformedInputError(`hashing failed: ${(e as Error).message}`, {}, { cause: e });
  } finally {
    await pool?.close();
  }
  // assemble per-entry digests in walk order
  const out: FileDigest[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.kind === 'stream') {
      const r = await hashReadable(await openStream(e), shardSize, tick);
      const digest = shardSize === undefined ? r.sha256 : shardedRoot(r.size, shardSize, r.shards);
      out.push({ path: e.display, name: e.name, size: r.size, algorithm, digest, ...(shardSize === undefined ? {} : { shards: r.shards }) });
      continue;
    }
    const mine = results.slice(firstTask[i], firstTask[i]! + taskCount[i]!);
    if (shardSize === undefined) {
      out.push({ path: e.display, name: e.name, size: mine[0]!.bytes, algorithm, digest: mine[0]!.sha256 });
      continue;
    }
    const now = (await fsp.stat(e.fsPath)).size;
    if (now !== sizes[i]) throw new MalformedInputError(`file changed size while hashing (${sizes[i]} -> ${now})`, { path: e.display });
    const shards = mine.map((r) => r.sha256);
    out.push({ path: e.display, name: e.name, size: sizes[i]!, algorithm, digest: shardedRoot(sizes[i]!, shardSize, shards), shards });
  }
  return out;
}

/** A file's size now (synchronous: one stat per file, without a thread hand-off each). */
function sizeNow(e: FileEntry): number {
  try {
    return statSync(e.fsPath).size;
  } catch (err) {
    throw rangeIoError({ path: e.display, start: 0, highWaterMark: 0 }, err);
  }
}

function rangeLen(t: RangeTask, size: number): number {
  return (t.end ?? size) - t.start;
}

/** The sharded digest of one file, shards hashed across `workers` threads. */
export async function shardedDigestFile(path: string, opts: { shardSize?: number; workers?: number; onProgress?: PathsProgress } = {}): Promise<FileDigest> {
  const [d] = await hashPaths([path], { sharded: opts.shardSize ?? true, workers: opts.workers, onProgress: opts.onProgress });
  if (!d) throw new MalformedInputError(`${path}: nothing to hash`, { path });
  return d;
}
