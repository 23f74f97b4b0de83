/**
 * Reading file bytes of a pinned commit in the core (browsers too): small non-LFS files whole, checked against the
 * listing's git blob id; the head of a safetensors file by HTTP range. The Node downloader (src/node/hub-download.ts)
 * streams large files to disk instead. Spec: spec/hub.md §3.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { VerificationError } from '../errors.js';
import { toHex, utf8 } from '../util/bytes.js';
import { readBounded, type HubHttp } from './http.js';
import type { HubRef } from './ref.js';
import type { HubFile } from './tree.js';

/** Largest non-LFS file read into memory by the core (the Hub itself stores bigger files in LFS). */
export const MAX_SMALL_FILE = 10 * 1024 * 1024;
/** Largest safetensors header fetched (the safetensors reference implementation's limit). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

/** `<endpoint>/[datasets/]ORG/NAME/resolve/<commit>/<path>`, each path segment percent-encoded. */
export function resolveUrl(http: HubHttp, ref: HubRef, path: string): string {
  const enc = path.split('/').map(encodeURIComponent).join('/');
  return `${http.base}/${ref.kind === 'dataset' ? 'datasets/' : ''}${ref.repo}/resolve/${ref.revision}/${enc}`;
}

/** The git blob id of `bytes`: sha1("blob " + len + "\0" + bytes), lowercase hex. */
export function gitBlobId(bytes: Uint8Array): string {
  return toHex(sha1.create().update(utf8(`blob ${bytes.length}\0`)).update(bytes).digest());
}

/** Opens a file of the pinned commit; the endpoint must say it serves that very commit. */
export async function openHubFile(http: HubHttp, ref: HubRef, path: string, headers?: Record<string, string>): Promise<Response> {
  const { res, repoCommit } = await http.request(resolveUrl(http, ref, path), { headers }, ref.revision);
  if (repoCommit === undefined) {
    await res.body?.cancel().catch(() => {});
    throw new VerificationError('HUB_COMMIT_MISMATCH', `the Hub did not say which commit it served ${JSON.stringify(path.slice(0, 120))} from (no X-Repo-Commit)`, { path });
  }
  return res;
}

/** Reads a small file whole and checks its size and git blob id against the listing; returns its bytes. */
export async function readSmallFile(http: HubHttp, ref: HubRef, file: HubFile, max = MAX_SMALL_FILE): Promise<Uint8Array> {
  if (file.size > max) throw new RangeError(`${file.path} is ${file.size} bytes, more than ${max}`);
  const res = await openHubFile(http, ref, file.path);
  const bytes = await readBounded(res, file.size, file.path).catch((e: unknown) => {
    if (e instanceof VerificationError && /exceeds/.test(e.message))
      throw new VerificationError('HUB_CONTENT_MISMATCH', `${file.path}: the Hub sent more than the ${file.size} bytes its tree lists`, { path: file.path });
    throw e;
  });
  if (bytes.length !== file.size)
    throw new VerificationError('HUB_CONTENT_MISMATCH', `${file.path}: the Hub sent ${bytes.length} bytes, its tree lists ${file.size}`, { path: file.path });
  const want = file.lfs ? file.lfs.sha256 : file.oid;
  const got = file.lfs ? toHex(sha256(bytes)) : gitBlobId(bytes);
  if (got !== want)
    throw new VerificationError('HUB_CONTENT_MISMATCH', `${file.path}: the bytes the Hub sent have ${file.lfs ? 'sha256' : 'git blob id'} ${got}, its tree lists ${want}`, { path: file.path, expected: want, actual: got });
  return bytes;
}

/** Reads bytes [start, start+len) of a file by HTTP range; exactly `len` bytes or HUB_RESPONSE_INVALID. */
async function readRange(http: HubHttp, ref: HubRef, path: string, start: number, len: number): Promise<Uint8Array> {
  const res = await openHubFile(http, ref, path, { range: `bytes=${start}-${start + len - 1}` });
  if (res.status !== 206) {
    await res.body?.cancel().catch(() => {});
    throw new VerificationError('HUB_RESPONSE_INVALID', `${path}: the Hub ignored a range request (HTTP ${res.status})`, { path });
  }
  const b = await readBounded(res, len, path);
  if (b.length !== len) throw new VerificationError('HUB_RESPONSE_INVALID', `${path}: asked for ${len} bytes at ${start}, got ${b.length}`, { path });
  return b;
}

/**
 * The first 8 + N bytes of a safetensors file (its length prefix and JSON header), by two range requests. These
 * bytes are what the Hub serves, not proven by the LFS oid; a header check on them is a check of the upload's form.
 */
export async function readSafetensorsHead(http: HubHttp, ref: HubRef, file: HubFile, max = MAX_SAFETENSORS_HEADER): Promise<Uint8Array> {
  const bad = (why: string): never => {
    throw new VerificationError('HUB_RESPONSE_INVALID', `${file.path}: ${why}`, { path: file.path });
  };
  if (file.size < 8) bad(`${file.size} bytes, shorter than a safetensors length prefix`);
  const prefix = await readRange(http, ref, file.path, 0, 8);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(max, file.size - 8))) bad(`safetensors header length ${n} exceeds ${Math.min(max, file.size - 8)} bytes`);
  if (n === 0n) return prefix;
  const head = await readRange(http, ref, file.path, 8, Number(n));
  const out = new Uint8Array(8 + head.length);
  out.set(prefix);
  out.set(head, 8);
  return out;
}
