/**
 * Uploads the runner's outputs to Azure Blob Storage with SAS URLs, over node:http(s): Put Blob for small files, Put
 * Block in parallel + Put Block List above the block size. A file already in storage with its size and sha256 is
 * skipped; blocks already uploaded but not committed (Get Block List, uncommitted) are not sent again, so an upload
 * cut by a dropped connection or a restarted job resumes where it stopped. The block size grows with the file so
 * that any file fits in Azure's 50,000 blocks of up to 4,000 MiB.
 * https://learn.microsoft.com/rest/api/storageservices/put-block
 * https://learn.microsoft.com/rest/api/storageservices/put-block-list
 * https://learn.microsoft.com/rest/api/storageservices/get-block-list
 * https://learn.microsoft.com/rest/api/storageservices/scalability-targets-for-blob-storage
 */
import { BlobTransport, UploadError, type RetryPolicy } from './upload-http.js';
import { join } from 'node:path';
import type { UploadedBlob } from '../wire/protocol.js';

export { UploadError } from './upload-http.js';

const MiB = 1 << 20;
export const MAX_BLOCKS = 50_000;
export const MAX_BLOCK_BYTES = 4000 * MiB;
export const MIN_BLOCK_BYTES = 8 * MiB;

/** Block size for a file: 8 MiB, or the smallest whole MiB that keeps it within 50,000 blocks; refused above 50,000 × 4,000 MiB. */
export function chooseBlockSize(size: number, min = MIN_BLOCK_BYTES): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new UploadError(`bad file size ${size}`);
  const need = Math.ceil(Math.ceil(size / MAX_BLOCKS) / MiB) * MiB;
  const block = Math.max(min, need);
  if (block > MAX_BLOCK_BYTES) throw new UploadError(`a file of ${size} bytes exceeds Azure's limit of ${MAX_BLOCKS} blocks of 4000 MiB`);
  return block;
}

/** Checks a container SAS URL: https, or http on loopback only (Azurite); a signature must be present unless per-blob SAS come separately. */
export function parseSasUrl(sasUrl: string, requireSignature = true): URL {
  let u: URL;
  try {
    u = new URL(sasUrl);
  } catch {
    throw new UploadError('sas_url is not a URL');
  }
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new UploadError('sas_url must be https (http only on loopback)');
  if (requireSignature && !u.searchParams.has('sig')) throw new UploadError('sas_url carries no SAS signature');
  if (u.username || u.password) throw new UploadError('sas_url must not carry credentials');
  return u;
}

/** URL of one blob below the container with the given SAS query, plus extra parameters. */
export function blobUrl(container: URL, name: string, sasQuery: string, extra: Record<string, string> = {}): string {
  const u = new URL(container.href);
  u.search = sasQuery;
  u.pathname = `${u.pathname.replace(/\/$/, '')}/${name.split('/').map(encodeURIComponent).join('/')}`;
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
  return u.href;
}

/** Fixed-width block ids (all ids of a blob must have the same length); the block size is part of the id. */
export function blockId(index: number, blockSize: number): string {
  return Buffer.from(`aicert-${String(index).padStart(5, '0')}-${String(Math.ceil(blockSize / 1024)).padStart(7, '0')}`).toString('base64');
}

/** Parses a Get Block List answer: name → size, for one list (bounded by the service's own limits). */
export function parseBlockList(xml: string, list: 'UncommittedBlocks' | 'CommittedBlocks'): Map<string, number> {
  const out = new Map<string, number>();
  const sec = new RegExp(`<${list}>([\\s\\S]*?)</${list}>`).exec(xml)?.[1] ?? '';
  for (const m of sec.matchAll(/<Block>\s*<Name>([A-Za-z0-9+/=]{1,128})<\/Name>\s*<Size>(\d{1,12})<\/Size>\s*<\/Block>/g)) out.set(m[1]!, Number(m[2]));
  return out;
}

export interface OutputFile {
  path: string;
  sha256: string;
  size: number;
}

export interface UploadOptions extends RetryPolicy {
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Blocks in flight at once (default 4). */
  parallel?: number;
  /** Smallest block size (default 8 MiB; tests use less). */
  minBlockBytes?: number;
  /** Bytes of this file now in storage (called as blocks complete, resumed ones included). */
  onProgress?: (path: string, done: number) => void;
  /** SAS query for one blob name (a per-blob token); default the container URL's own query. */
  sasFor?: (blobName: string) => string;
  /** Re-send even when storage already holds the file with its size and sha256 metadata. */
  force?: boolean;
  /** Bytes sent (blocks and blobs that went over the wire, resumed ones excluded). */
  onSent?: (bytes: number) => void;
}

/** Uploads one file as PREFIX+path; returns the bytes that had to be sent (0 when it was already there). */
async function uploadFile(t: BlobTransport, container: URL, name: string, file: string, f: OutputFile, o: UploadOptions): Promise<number> {
  const sas = () => (o.sasFor ? o.sasFor(name) : container.search);
  const url = (extra?: Record<string, string>) => () => blobUrl(container, name, sas(), extra);
  const meta = { 'x-ms-meta-sha256': f.sha256, 'x-ms-blob-content-type': 'application/octet-stream' };
  // Already there with this size and digest (a previous job got this far): nothing to send.
  const head = await t.send(`HEAD ${name}`, 'HEAD', url(), {}, undefined, [200, 404], o.signal);
  if (!o.force && head.status === 200 && Number(head.headers['content-length']) === f.size && head.headers['x-ms-meta-sha256'] === f.sha256) {
    o.onProgress?.(f.path, f.size);
    return 0;
  }
  const block = chooseBlockSize(f.size, o.minBlockBytes);
  if (f.size <= block) {
    await t.send(`Put Blob ${name}`, 'PUT', url(), { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'application/octet-stream', ...meta }, { file, start: 0, length: f.size }, [201], o.signal);
    o.onSent?.(f.size);
    o.onProgress?.(f.path, f.size);
    return f.size;
  }
  // Resume: blocks with our id and the right size are already staged.
  const list = await t.send(`Get Block List ${name}`, 'GET', url({ comp: 'blocklist', blocklisttype: 'uncommitted' }), {}, undefined, [200, 404], o.signal);
  const staged = list.status === 200 ? parseBlockList(list.body.toString('utf8'), 'UncommittedBlocks') : new Map<string, number>();
  const count = Math.ceil(f.size / block);
  const ids = Array.from({ length: count }, (_, i) => blockId(i, block));
  const len = (i: number) => Math.min(block, f.size - i * block);
  let done = 0;
  const todo: number[] = [];
  ids.forEach((id, i) => (staged.get(id) === len(i) ? (done += len(i)) : todo.push(i)));
  if (done) o.log?.(`resuming ${name}: ${count - todo.length} of ${count} blocks already in storage`);
  o.onProgress?.(f.path, done);
  let sent = 0;
  // A pool of `parallel` workers takes the next missing block; the first failure stops them all.
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const worker = async () => {
    for (let i = todo.shift(); i !== undefined; i = todo.shift()) {
      const body = { file, start: i * block, length: len(i) };
      await t.send(`Put Block ${name} #${i}`, 'PUT', url({ comp: 'block', blockid: ids[i]! }), {}, body, [201], signal).catch((e: unknown) => {
        if (!stop.signal.aborted) stop.abort(e);
        throw e;
      });
      done += body.length;
      sent += body.length;
      o.onSent?.(body.length);
      o.onProgress?.(f.path, done);
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(o.parallel ?? 4, todo.length) }, worker));
  if (stop.signal.aborted || results.some((r) => r.status === 'rejected')) throw o.signal?.aborted ? o.signal.reason : stop.signal.reason;
  const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((i) => `<Latest>${i}</Latest>`).join('')}</BlockList>`;
  await t.send(`Put Block List ${name}`, 'PUT', url({ comp: 'blocklist' }), { 'content-type': 'application/xml', ...meta }, new Uint8Array(Buffer.from(xml)), [201], o.signal);
  return sent;
}

/** Uploads FILES (relative to DIR) to the container under PREFIX; returns what is now in storage. */
export async function uploadOutputs(sasUrl: string, prefix: string, dir: string, files: readonly OutputFile[], opts: UploadOptions = {}): Promise<UploadedBlob[]> {
  const container = parseSasUrl(sasUrl, opts.sasFor === undefined);
  if (prefix !== '' && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(prefix)) throw new UploadError('prefix must be empty or POSIX segments ending in /');
  const t = new BlobTransport(container, opts.parallel ?? 4, opts);
  const done: UploadedBlob[] = [];
  try {
    for (const f of files) {
      const name = prefix + f.path;
      const sent = await uploadFile(t, container, name, join(dir, f.path), f, opts);
      opts.log?.(sent ? `uploaded ${name} (${f.size} bytes, ${sent} sent)` : `${name} already in storage (${f.size} bytes)`);
      done.push({ path: f.path, blob: name, size: f.size, sha256: f.sha256 });
    }
  } finally {
    t.close();
  }
  return done;
}
