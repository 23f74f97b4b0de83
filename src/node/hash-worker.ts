/**
 * A pool of worker_threads that SHA-256 byte ranges of files (whole files or shards).
 * The worker body is a small self-contained CommonJS script started with `eval: true`, so it needs no file of
 * its own at runtime: it works the same from src/ under vitest, from dist/ chunks, and inside a consumer's bundle.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { MalformedInputError } from '../errors.js';

/** One range to hash: bytes [start, end) of a file; end undefined = to end of file. */
export interface RangeTask {
  path: string;
  start: number;
  end?: number;
  highWaterMark: number;
}

/** Result of a range: lowercase hex SHA-256 and the bytes actually hashed. */
export interface RangeResult {
  sha256: string;
  bytes: number;
}

/**
 * Worker script. Opens with O_NOFOLLOW (the walker already resolved every path), refuses non-regular files, and
 * reads the range with synchronous positional reads into one reused buffer: with every core hashing, this measured
 * faster than async reads (3.1 vs 2.2 GB/s on 2 workers), which only add thread hand-offs. Progress per chunk;
 * a bounded range that ends early is an error.
 */
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
let buf = null;
function fail(message, code) {
  throw Object.assign(new Error(message), { code });
}
function hashRange(t, progress) {
  if (!buf || buf.length !== t.highWaterMark) buf = Buffer.allocUnsafe(t.highWaterMark);
  const fd = fs.openSync(t.path, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0));
  try {
    if (!fs.fstatSync(fd).isFile()) fail('not a regular file', 'ENOTREG');
    const h = createHash('sha256');
    let pos = t.start;
    for (;;) {
      const want = t.end === undefined ? buf.length : Math.min(buf.length, t.end - pos);
      if (want <= 0) break;
      const n = fs.readSync(fd, buf, 0, want, pos);
      if (n === 0) break;
      h.update(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
      progress(n);
    }
    if (t.end !== undefined && pos !== t.end) fail('file shrank while hashing: got ' + (pos - t.start) + ' of ' + (t.end - t.start) + ' bytes', 'ESHORT');
    return { sha256: h.digest('hex'), bytes: pos - t.start };
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.on('message', (m) => {
  try {
    const r = hashRange(m.task, (n) => parentPort.postMessage({ id: m.id, progress: n }));
    parentPort.postMessage({ id: m.id, result: r });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { message: String(e && e.message), code: e && e.code } });
  }
});
`;

type Msg = { id: number; progress?: number; result?: RangeResult; error?: { message: string; code?: string } };

interface Pending {
  task: RangeTask;
  onProgress: ((n: number) => void) | undefined;
  resolve: (r: RangeResult) => void;
  reject: (e: unknown) => void;
}

/** Default worker count: one per core the process may use. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** A fixed-size pool; tasks queue FIFO; `close()` terminates every worker. */
export class HashPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Array<{ id: number } & Pending> = [];
  private readonly running = new Map<number, Pending & { worker: Worker }>();
  private nextId = 1;
  private closed = false;

  constructor(size: number = defaultWorkers()) {
    if (!Number.isSafeInteger(size) || size < 1) throw new TypeError('worker count must be a positive integer');
    // worker_threads loads only when a pool starts (most CLI runs never start one)
    const { Worker: WorkerThread } = process.getBuiltinModule('node:worker_threads');
    for (let i = 0; i < size; i++) {
      const w = new WorkerThread(WORKER_SOURCE, { eval: true });
      w.on('message', (m: Msg) => this.onMessage(w, m));
      w.on('error', (e) => this.failWorker(w, e));
      w.on('exit', (code) => this.failWorker(w, new Error(`hash worker exited with code ${code}`)));
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** Queues one range; resolves with its digest. */
  hash(task: RangeTask, onProgress?: (n: number) => void): Promise<RangeResult> {
    if (this.closed) return Promise.reject(new Error('hash pool is closed'));
    return new Promise<RangeResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, onProgress, resolve, reject });
      this.pump();
    });
  }

  /** Terminates all workers; pending tasks are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error('hash pool closed'));
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  /** Hands queued tasks to idle workers. */
  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(job.id, { ...job, worker: w });
      w.postMessage({ id: job.id, task: job.task });
    }
  }

  /** Routes progress, results and errors back to their task. */
  private onMessage(w: Worker, m: Msg): void {
    const job = this.running.get(m.id);
    if (!job) return;
    if (m.progress !== undefined) {
      job.onProgress?.(m.progress);
      return;
    }
    this.running.delete(m.id);
    this.idle.push(w);
    if (m.result) job.resolve(m.result);
    else job.reject(rangeError(job.task, m.error));
    this.pump();
  }

  /** A crashed worker fails its task (and the pool, which is then unusable). */
  private failWorker(w: Worker, e: unknown): void {
    if (this.closed) return;
    for (const [id, job] of this.running) {
      if (job.worker === w) {
        this.running.delete(id);
        job.reject(e);
      }
    }
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(e);
    void Promise.all(this.all.map((x) => x.terminate()));
  }
}

/** Maps a worker's error to the typed error the caller sees. */
function rangeError(task: RangeTask, err: { message: string; code?: string } | undefined): MalformedInputError {
  const code = err?.code ?? 'EIO';
  const why = code === 'ELOOP' ? 'symlink refused (ELOOP)' : code === 'ENOTREG' ? 'not a regular file' : code === 'ESHORT' ? err!.message : code;
  return new MalformedInputError(`cannot read ${task.path}: ${why}`, { path: task.path, offset: task.start });
}
