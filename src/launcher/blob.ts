/**
 * Blob storage for the fine-tune outputs (Azure, or Azurite on loopback): the upload SAS handed to the runner (one
 * container, create + write only, 1 h expiry) and the download of the outputs with a progress bar.
 * SAS: https://learn.microsoft.com/rest/api/storageservices/create-service-sas
 */
import { optionalImport } from './optional.js';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createProgressBar } from '../node/progress.js';
import type { TokenCredential } from './arm.js';
import { ToolError } from '../wire/tool-error.js';
import { escaped } from '../node/stderr.js';

/** A storage URL, SAS or transfer problem (exit 3 in the CLI; a bad --storage-url is exit 2 through TypeError). */
export class StorageError extends Error {
  override name = 'StorageError';
  /** The output whose copy in storage is wrong (size or digest), when that is the problem. */
  constructor(
    message: string,
    readonly mismatched?: string,
  ) {
    super(message);
  }
}

/** `--storage-url`: `https://ACCOUNT.blob.core.windows.net/CONTAINER` or Azurite `http://127.0.0.1:P/ACCOUNT/CONTAINER`. */
export interface ContainerRef {
  url: string;
  accountUrl: string;
  accountName: string;
  container: string;
}

/** Parses a container URL; TypeError when it is not one. http is accepted on loopback only (Azurite). */
export function parseContainerUrl(s: string): ContainerRef {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new TypeError(`--storage-url is not a URL: ${s}`);
  }
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new TypeError('--storage-url must be https (http only on loopback)');
  if (u.search || u.hash || u.username) throw new TypeError('--storage-url must be a plain container URL (no query, no credentials)');
  const segs = u.pathname.split('/').filter(Boolean);
  const container = segs.pop();
  if (!container || !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container)) throw new TypeError(`--storage-url must end in a container name, got ${u.pathname}`);
  const accountName = loopback ? segs[0] : u.hostname.split('.')[0];
  if (!accountName || (loopback ? segs.length !== 1 : segs.length !== 0)) throw new TypeError('--storage-url: cannot tell the storage account');
  const accountUrl = `${u.origin}${loopback ? `/${accountName}` : ''}`;
  return { url: `${accountUrl}/${container}`, accountUrl, accountName, container };
}

/** Reads AccountName/AccountKey from a storage connection string. */
function sharedKeyOf(conn: string): { name: string; key: string } {
  const kv = Object.fromEntries(conn.split(';').filter(Boolean).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  if (!kv.AccountName || !kv.AccountKey) throw new StorageError('AZURE_STORAGE_CONNECTION_STRING has no AccountName/AccountKey');
  return { name: kv.AccountName, key: kv.AccountKey };
}

/** How the launcher talks to storage: a shared key (connection string) or an Entra credential. */
export type StorageAuth = { connectionString: string } | { credential: TokenCredential };

/** AZURE_STORAGE_CONNECTION_STRING when set, else DefaultAzureCredential (user delegation key). */
export async function storageAuthFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<StorageAuth> {
  if (env.AZURE_STORAGE_CONNECTION_STRING) return { connectionString: env.AZURE_STORAGE_CONNECTION_STRING };
  const { DefaultAzureCredential } = await optionalImport('@azure/identity', () => import('@azure/identity'));
  return { credential: new DefaultAzureCredential() };
}

async function serviceClient(ref: ContainerRef, auth: StorageAuth) {
  const sb = await optionalImport('@azure/storage-blob', () => import('@azure/storage-blob'));
  if ('connectionString' in auth) {
    const { name, key } = sharedKeyOf(auth.connectionString);
    if (name !== ref.accountName) throw new StorageError(`the connection string is for account ${name}, --storage-url names ${ref.accountName}`);
    const cred = new sb.StorageSharedKeyCredential(name, key);
    return { sb, svc: new sb.BlobServiceClient(ref.accountUrl, cred), cred };
  }
  return { sb, svc: new sb.BlobServiceClient(ref.accountUrl, auth.credential as never), cred: undefined };
}

/**
 * Creates the container if needed and returns a container SAS URL for the runner: permissions create + write
 * (no read, list or delete), valid from 5 min ago to `ttlMs` (default 1 h) from now.
 */
export async function makeUploadSas(ref: ContainerRef, auth: StorageAuth, ttlMs = 3600_000): Promise<{ sasUrl: string; expiresOn: Date }> {
  try {
    const { sb, svc, cred } = await serviceClient(ref, auth);
    await svc.getContainerClient(ref.container).createIfNotExists();
    const startsOn = new Date(Date.now() - 5 * 60_000), expiresOn = new Date(Date.now() + ttlMs);
    const values = {
      containerName: ref.container,
      permissions: sb.ContainerSASPermissions.parse('cw'),
      startsOn,
      expiresOn,
      protocol: ref.url.startsWith('https:') ? sb.SASProtocol.Https : sb.SASProtocol.HttpsAndHttp,
    };
    const sas = cred
      ? sb.generateBlobSASQueryParameters(values, cred)
      : sb.generateBlobSASQueryParameters(values, await svc.getUserDelegationKey(startsOn, expiresOn), ref.accountName);
    return { sasUrl: `${ref.url}?${sas.toString()}`, expiresOn };
  } catch (e) {
    if (e instanceof StorageError) throw e;
    throw new StorageError(`cannot prepare ${ref.url}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Longest SAS the launcher signs: a user delegation key lives at most 7 days. */
const MAX_SAS_MS = 7 * 24 * 3600_000;

/** SAS lifetime for uploading `bytes`: one hour plus the time at a slow 2 MB/s, doubled; at most 7 days. */
export function sasLifetimeMs(bytes: number): number {
  return Math.min(MAX_SAS_MS, 3600_000 + 2 * Math.ceil(bytes / 2e6) * 1000);
}

/**
 * One SAS per output blob (sr=b): read (Get Block List, Get Blob Properties, for resuming), create and write, for
 * exactly PREFIX+path and nothing else in the container; valid from 5 min ago for `ttlMs`.
 */
export async function makeBlobSas(
  ref: ContainerRef,
  auth: StorageAuth,
  prefix: string,
  paths: readonly string[],
  ttlMs: number,
): Promise<{ containerUrl: string; blobSas: Record<string, string>; expiresOn: Date }> {
  try {
    const { sb, svc, cred } = await serviceClient(ref, auth);
    await svc.getContainerClient(ref.container).createIfNotExists();
    const startsOn = new Date(Date.now() - 5 * 60_000), expiresOn = new Date(Date.now() + Math.min(ttlMs, MAX_SAS_MS));
    const udk = cred ? undefined : await svc.getUserDelegationKey(startsOn, expiresOn);
    const blobSas: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const path of paths) {
      const values = {
        containerName: ref.container,
        blobName: prefix + path,
        permissions: sb.BlobSASPermissions.parse('rcw'),
        startsOn,
        expiresOn,
        protocol: ref.url.startsWith('https:') ? sb.SASProtocol.Https : sb.SASProtocol.HttpsAndHttp,
      };
      blobSas[path] = (cred ? sb.generateBlobSASQueryParameters(values, cred) : sb.generateBlobSASQueryParameters(values, udk!, ref.accountName)).toString();
    }
    return { containerUrl: ref.url, blobSas, expiresOn };
  } catch (e) {
    if (e instanceof StorageError) throw e;
    throw new StorageError(`cannot prepare ${ref.url}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Size and sha256 metadata of each blob PREFIX+path as storage reports them (undefined when absent). */
export async function blobFacts(ref: ContainerRef, auth: StorageAuth, prefix: string, paths: readonly string[], signal?: AbortSignal): Promise<Map<string, { size: number; sha256?: string } | undefined>> {
  const { svc } = await serviceClient(ref, auth);
  const cc = svc.getContainerClient(ref.container);
  const out = new Map<string, { size: number; sha256?: string } | undefined>();
  for (const p of paths) {
    try {
      const r = await cc.getBlobClient(prefix + p).getProperties(signal ? { abortSignal: signal } : {});
      out.set(p, { size: r.contentLength ?? -1, ...(r.metadata?.sha256 ? { sha256: r.metadata.sha256 } : {}) });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) out.set(p, undefined);
      else throw new StorageError(`cannot read the properties of ${prefix + p}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return out;
}

/**
 * Storage preflight: the container exists and the credential can write, read and delete in it (a probe blob, deleted
 * again). PreflightError exit 2 when the service refuses (key, container, firewall), 3 when it cannot be reached.
 */
export async function probeStorage(ref: ContainerRef, auth: StorageAuth, signal?: AbortSignal): Promise<void> {
  const { PreflightError } = await import('./preflight.js');
  const o = signal ? { abortSignal: signal } : {};
  const name = `.aicert-probe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const { svc } = await serviceClient(ref, auth);
    const cc = svc.getContainerClient(ref.container);
    // A missing container is made if the credential may (as the upload always did); otherwise that is the error.
    await cc.createIfNotExists(o).catch((e: unknown) => {
      throw Object.assign(new ToolError('STORAGE_REFUSED', `container ${ref.container} does not exist and cannot be created: ${(e as Error).message.split('\n')[0]}`), { statusCode: (e as { statusCode?: number }).statusCode ?? 404 });
    });
    const b = cc.getBlockBlobClient(name);
    await b.upload('probe', 5, o);
    const back = await b.downloadToBuffer(0, undefined, o);
    await b.delete(o);
    if (back.toString() !== 'probe') throw new ToolError('UPLOAD_MISMATCH', 'the probe blob read back differs');
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    const msg = (e as Error).message.split('\n')[0];
    if (status !== undefined && status >= 400 && status < 500) throw new PreflightError('StorageRefused', 2, `storage ${ref.url}: ${msg} (check the key or credential, the container and the account's firewall)`);
    throw new PreflightError('StorageUnreachable', 3, `storage ${ref.url}: ${msg}`);
  }
}

/** Progress callback: bytes done and total, over all files. */
export type Progress = (done: number, total: number, file: string) => void;

/** Downloads PREFIX+path for each file into DIR/path; paths must stay inside DIR. */
export async function downloadOutputs(
  ref: ContainerRef,
  auth: StorageAuth,
  prefix: string,
  files: readonly { path: string; size: number; sha256?: string }[],
  dir: string,
  o: { onProgress?: Progress; signal?: AbortSignal } = {},
): Promise<string[]> {
  const { svc } = await serviceClient(ref, auth);
  const cc = svc.getContainerClient(ref.container);
  const total = files.reduce((a, f) => a + f.size, 0);
  const root = resolve(dir);
  let done = 0;
  const written: string[] = [];
  for (const f of files) {
    const dest = resolve(root, f.path);
    if (!dest.startsWith(root + sep)) throw new StorageError(`output path ${f.path} leaves ${dir}`);
    await mkdir(dirname(dest), { recursive: true });
    try {
      const r = await cc.getBlobClient(prefix + f.path).download(0, undefined, o.signal ? { abortSignal: o.signal } : {});
      if (!r.readableStreamBody) throw new StorageError('empty download');
      const h = createHash('sha256');
      let got = 0;
      const count = new Transform({
        transform(chunk: Buffer, _e, cb) {
          h.update(chunk);
          got += chunk.length;
          done += chunk.length;
          o.onProgress?.(done, total, f.path);
          cb(null, chunk);
        },
      });
      await pipeline(r.readableStreamBody, count, createWriteStream(dest), o.signal ? { signal: o.signal } : {});
      // Confirmed only with the size and digest the runner measured.
      const sha = h.digest('hex');
      if (got !== f.size || (f.sha256 !== undefined && sha !== f.sha256))
        throw new StorageError(`${prefix + f.path} in storage is ${got} bytes sha256 ${sha}, the runner measured ${f.size} bytes sha256 ${f.sha256 ?? '?'}`, f.path);
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      if (e instanceof StorageError) throw e;
      throw new StorageError(`download of ${prefix + f.path} failed: ${(e as Error).message.split('\n')[0]}`);
    }
    written.push(join(dir, f.path));
  }
  return written;
}

/** The shared progress bar (src/node/progress.ts) on a TTY, else one line per file. */
export function progressBar(out: NodeJS.WriteStream = process.stderr): Progress {
  if (out.isTTY) {
    const bar = createProgressBar(out);
    return (done, total) => {
      bar.update(done, total);
      if (done >= total) bar.done();
    };
  }
  let last = '';
  return (_done, _total, file) => {
    if (file === last) return;
    last = file;
    // the name is the trainer's (an output file name): escaped like every untrusted string
    out.write(escaped`downloading ${file}\n`);
  };
}
