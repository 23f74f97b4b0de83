/**
 * Uploads the runner's outputs to Azure Blob Storage with a container SAS, over plain fetch: Put Blob for small
 * files, Put Block + Put Block List above 4 MiB. Each request is retried (network errors, 408/429/5xx).
 * https://learn.microsoft.com/rest/api/storageservices/put-blob
 * https://learn.microsoft.com/rest/api/storageservices/put-block-list
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UploadedBlob } from '../wire/protocol.js';

const X_MS_VERSION = '2021-08-06';
const BLOCK = 4 << 20;

/** An upload failed after retries, or the SAS URL was refused. */
export class UploadError extends Error {
  override name = 'UploadError';
}

/** Checks a container SAS URL: https, or http on loopback only (Azurite); a query must be present. */
export function parseSasUrl(sasUrl: string): URL {
  let u: URL;
  try {
    u = new URL(sasUrl);
  } catch {
    throw new UploadError('sas_url is not a URL');
  }
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new UploadError('sas_url must be https (http only on loopback)');
  if (!u.search || !u.searchParams.has('sig')) throw new UploadError('sas_url carries no SAS signature');
  if (u.username || u.password) throw new UploadError('sas_url must not carry credentials');
  return u;
}

/** URL of one blob below the container, keeping the SAS query. */
function blobUrl(container: URL, name: string, extra: Record<string, string> = {}): string {
  const u = new URL(container.href);
  u.pathname = `${u.pathname.replace(/\/$/, '')}/${name.split('/').map(encodeURIComponent).join('/')}`;
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
  return u.href;
}

/** One PUT with retries; resolves on 201. */
async function put(url: string, body: Uint8Array<ArrayBuffer>, headers: Record<string, string>, signal?: AbortSignal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    let status = 0;
    let detail = '';
    try {
      const r = await fetch(url, { method: 'PUT', body, headers: { 'x-ms-version': X_MS_VERSION, ...headers }, ...(signal ? { signal } : {}) });
      status = r.status;
      detail = status === 201 ? '' : (await r.text()).slice(0, 300);
      if (status === 201) return;
      if (status !== 408 && status !== 429 && status < 500) throw new UploadError(`blob service answered ${status}: ${detail.replace(/\s+/g, ' ')}`);
    } catch (e) {
      if (e instanceof UploadError || signal?.aborted) throw e;
      detail = (e as Error).message;
    }
    if (attempt >= 3) throw new UploadError(`upload failed after ${attempt + 1} attempts: ${status || 'network error'} ${detail}`.trim());
    // The back-off ends early on abort, with the signal's reason.
    await sleep(200 * 2 ** attempt, undefined, signal ? { signal } : {}).catch(() => signal!.throwIfAborted());
  }
}

/** Uploads FILES (relative to DIR) to the container under PREFIX; returns what was uploaded. */
export async function uploadOutputs(
  sasUrl: string,
  prefix: string,
  dir: string,
  files: readonly { path: string; sha256: string; size: number }[],
  opts: { signal?: AbortSignal; log?: (line: string) => void } = {},
): Promise<UploadedBlob[]> {
  const container = parseSasUrl(sasUrl);
  if (prefix !== '' && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(prefix)) throw new UploadError('prefix must be empty or POSIX segments ending in /');
  const done: UploadedBlob[] = [];
  for (const f of files) {
    const name = prefix + f.path;
    const fh = await open(join(dir, f.path), 'r');
    try {
      if (f.size <= BLOCK) {
        const buf = new Uint8Array(f.size);
        await fh.read(buf, 0, f.size, 0);
        await put(blobUrl(container, name), buf, { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'application/octet-stream' }, opts.signal);
      } else {
        // Fixed-width block ids (base64 of a 6-digit counter): all ids of a blob must have the same length.
        const ids: string[] = [];
        for (let off = 0, n = 0; off < f.size; off += BLOCK, n++) {
          const len = Math.min(BLOCK, f.size - off);
          const buf = new Uint8Array(len);
          await fh.read(buf, 0, len, off);
          const id = Buffer.from(String(n).padStart(6, '0')).toString('base64');
          ids.push(id);
          await put(blobUrl(container, name, { comp: 'block', blockid: id }), buf, {}, opts.signal);
        }
        const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((i) => `<Latest>${i}</Latest>`).join('')}</BlockList>`;
        await put(blobUrl(container, name, { comp: 'blocklist' }), new Uint8Array(Buffer.from(xml)), { 'content-type': 'application/xml' }, opts.signal);
      }
    } finally {
      await fh.close();
    }
    opts.log?.(`uploaded ${name} (${f.size} bytes)`);
    done.push({ path: f.path, blob: name, size: f.size, sha256: f.sha256 });
  }
  return done;
}
