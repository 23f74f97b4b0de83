/**
 * Downloads exactly one pinned Hub commit into a folder (Node). The tree comes from the core (confirmed commit,
 * checked paths); every file is streamed through node:crypto into a temporary file and renamed only once its size
 * and digest equal the listing: the LFS sha256 for LFS files, the git blob id (sha1 of "blob <len>\0" + bytes) for
 * the others. Everything lands in a staging folder that is renamed to the destination at the very end, so a failure
 * leaves nothing behind that could be measured. Spec: spec/hub.md §5.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { VerificationError } from '../errors.js';
import { openHubFile } from '../hub/content.js';
import { HubHttp } from '../hub/http.js';
import { parseHubRef, type HubRef } from '../hub/ref.js';
import { listHubTree, type HubFile, type HubTreeOptions } from '../hub/tree.js';

export interface HubDownloadOptions extends HubTreeOptions {
  /** Download only these paths of the commit (e.g. one dataset file); default every file. */
  only?: readonly string[];
  /** Refuse a commit whose selected files add up to more bytes. Default: no limit. */
  maxTotalBytes?: number;
  /** Called as bytes arrive: (bytes done, bytes total). */
  onProgress?: (done: number, total: number) => void;
}

export interface HubDownloadedFile {
  path: string;
  size: number;
  /** Whole-file sha256 of the bytes written (hex). */
  sha256: string;
  /** The git blob id the listing gives (verified for non-LFS files; for LFS files the pointer's id). */
  gitOid: string;
  lfs: boolean;
}

export interface HubDownload {
  /** The destination folder, holding exactly `files`. */
  dir: string;
  ref: HubRef;
  /** The commit the Hub confirmed and served every file from. */
  commit: string;
  files: HubDownloadedFile[];
}

const mismatch = (path: string, message: string, details: Record<string, unknown> = {}): never => {
  throw new VerificationError('HUB_CONTENT_MISMATCH', `${path}: ${message}`, { path, ...details });
};

/** Two names one file system may merge (case-insensitive or normalizing ones) are refused. */
function checkCollisions(files: readonly HubFile[]): void {
  const seen = new Map<string, string>();
  for (const f of files) {
    const k = f.path.normalize('NFC').toLowerCase();
    const prior = seen.get(k);
    if (prior !== undefined) throw new VerificationError('HUB_PATH_UNSAFE', `the Hub lists ${JSON.stringify(prior)} and ${JSON.stringify(f.path)}, which a file system may merge`, { path: f.path });
    seen.set(k, f.path);
  }
}

/** Streams one file into `target` via a temporary file; returns its sha256 once size and digest are proven. */
async function fetchOne(http: HubHttp, ref: HubRef, f: HubFile, target: string, tick: (n: number) => void): Promise<string> {
  const res = await openHubFile(http, ref, f.path);
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.part`);
  const fh = await open(tmp, 'wx', 0o644);
  const sha256 = createHash('sha256');
  const blob = f.lfs ? undefined : createHash('sha1').update(`blob ${f.size}\0`);
  let got = 0;
  try {
    if (res.body) {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          got += chunk.byteLength;
          if (got > f.size) mismatch(f.path, `the Hub sent more than the ${f.size} bytes its tree lists`);
          sha256.update(chunk);
          blob?.update(chunk);
          await fh.write(chunk);
          tick(chunk.byteLength);
        }
      } catch (e) {
        if (e instanceof VerificationError || (e as Error).name === 'AbortError') throw e;
        mismatch(f.path, `the download broke off after ${got} of ${f.size} bytes (${(e as Error).message})`, { received: got });
      }
    }
    if (got !== f.size) mismatch(f.path, `the Hub sent ${got} bytes, its tree lists ${f.size} (truncated)`, { received: got });
    const hex = sha256.digest('hex');
    if (f.lfs && hex !== f.lfs.sha256) mismatch(f.path, `the bytes have sha256 ${hex}, the tree's LFS oid is ${f.lfs.sha256}`, { expected: f.lfs.sha256, actual: hex });
    const oid = blob?.digest('hex');
    if (oid !== undefined && oid !== f.oid) mismatch(f.path, `the bytes have git blob id ${oid}, the tree lists ${f.oid}`, { expected: f.oid, actual: oid });
    await fh.sync();
    await fh.close();
    await rename(tmp, target);
    return hex;
  } catch (e) {
    await res.body?.cancel().catch(() => {});
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Downloads `ref` (string or parsed) into `dest`, which must not exist yet. Resolves with the commit held and the
 * file list with digests; any lie of the Hub rejects with a typed error and leaves `dest` absent.
 */
export async function downloadHubCommit(ref: string | HubRef, dest: string, opts: HubDownloadOptions = {}): Promise<HubDownload> {
  const r = typeof ref === 'string' ? parseHubRef(ref) : ref;
  const out = resolve(dest);
  if (await stat(out).catch(() => undefined)) throw new Error(`refusing to download into ${out}: it already exists`);
  const http = new HubHttp(opts);
  const tree = await listHubTree(r, opts, http);
  let files = tree.files;
  if (opts.only) {
    const byPath = new Map(files.map((f) => [f.path, f]));
    files = opts.only.map((p) => byPath.get(p) ?? (() => { throw new VerificationError('HUB_UNAVAILABLE', `${p} is not in ${r.repo}@${r.revision}`, { path: p }); })());
  }
  checkCollisions(files);
  const total = files.reduce((a, f) => a + f.size, 0);
  if (opts.maxTotalBytes !== undefined && total > opts.maxTotalBytes)
    throw new VerificationError('HUB_RESPONSE_INVALID', `${r.repo}@${r.revision} lists ${total} bytes, more than the ${opts.maxTotalBytes} allowed`);
  await mkdir(dirname(out), { recursive: true });
  const staging = await mkdtemp(join(dirname(out), `.${basename(out)}.partial-`));
  try {
    const done: HubDownloadedFile[] = [];
    let bytes = 0;
    const tick = (n: number): void => {
      bytes += n;
      opts.onProgress?.(bytes, total);
    };
    for (const f of files) {
      const target = join(staging, ...f.path.split('/'));
      if (!resolve(target).startsWith(staging + sep)) throw new VerificationError('HUB_PATH_UNSAFE', `${f.path} leaves the download folder`, { path: f.path });
      await mkdir(dirname(target), { recursive: true });
      const sha256 = await fetchOne(http, r, f, target, tick);
      done.push({ path: f.path, size: f.size, sha256, gitOid: f.oid, lfs: f.lfs !== undefined });
    }
    await rename(staging, out);
    return { dir: out, ref: r, commit: tree.commit, files: done };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}
