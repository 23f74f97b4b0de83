/**
 * The hashing worker of the verifier page: reads a File in chunks and hashes it with SHA-256, reporting bytes done.
 * Small files go to WebCrypto in one call (native speed); larger ones stream through @noble/hashes so memory stays
 * bounded (WebCrypto has no streaming digest). Nothing leaves the browser.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../util/bytes.js';

/** Chunk read from the file per step. */
export const CHUNK = 4 * 1024 * 1024;
/** Largest file hashed by WebCrypto in one call; larger ones stream. */
export const WEBCRYPTO_MAX = 256 * 1024 * 1024;

export type HashMode = 'auto' | 'noble' | 'webcrypto';
export type WorkerRequest = { id: number; file: Blob; mode?: HashMode } | { id: number; bench: number };
export type WorkerReply =
  | { id: number; done: number }
  | { id: number; sha256: string; how: 'webcrypto' | 'noble' }
  | { id: number; bench: BenchResult }
  | { id: number; error: string };

type Post = (m: WorkerReply) => void;

/** Both hashers on the same data: their times and digests (which must agree). */
export interface BenchResult {
  bytes: number;
  nobleMs: number;
  webcryptoMs: number;
  noble: string;
  webcrypto: string;
}

/** Streams `blob` through @noble/hashes, posting progress after each chunk. */
async function hashNoble(id: number, blob: Blob, post: Post): Promise<string> {
  const h = sha256.create();
  for (let at = 0; at < blob.size; at += CHUNK) {
    h.update(new Uint8Array(await blob.slice(at, at + CHUNK).arrayBuffer()));
    post({ id, done: Math.min(blob.size, at + CHUNK) });
  }
  return toHex(h.digest());
}

/** One WebCrypto digest of the whole blob. */
async function hashWebCrypto(id: number, blob: Blob, post: Post): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  post({ id, done: blob.size });
  return toHex(d);
}

/** Times both hashers on the same `bytes` of pseudo-random data (the page's speed figure). */
async function bench(bytes: number): Promise<BenchResult> {
  const buf = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(buf.subarray(i, Math.min(bytes, i + 65536)));
  const blob = new Blob([buf]);
  const none: Post = () => {};
  let t = performance.now();
  const noble = await hashNoble(0, blob, none);
  const nobleMs = performance.now() - t;
  t = performance.now();
  const webcrypto = await hashWebCrypto(0, blob, none);
  return { bytes, nobleMs, webcryptoMs: performance.now() - t, noble, webcrypto };
}

/** Answers one request. */
export async function handle(req: WorkerRequest, post: Post): Promise<void> {
  try {
    if ('bench' in req) return post({ id: req.id, bench: await bench(req.bench) });
    const mode = req.mode ?? 'auto';
    const web = mode === 'webcrypto' || (mode === 'auto' && req.file.size <= WEBCRYPTO_MAX && typeof crypto?.subtle?.digest === 'function');
    const hex = web ? await hashWebCrypto(req.id, req.file, post) : await hashNoble(req.id, req.file, post);
    post({ id: req.id, sha256: hex, how: web ? 'webcrypto' : 'noble' });
  } catch (e) {
    post({ id: req.id, error: e instanceof Error ? e.message : String(e) });
  }
}

/** Installs the message handler in a worker scope. */
export function startWorker(scope: { onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null; postMessage(m: WorkerReply): void }): void {
  scope.onmessage = (ev) => void handle(ev.data, (m) => scope.postMessage(m));
}
