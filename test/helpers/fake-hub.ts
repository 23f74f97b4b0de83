/**
 * A loopback Hugging Face Hub (127.0.0.1, port 0) answering the subset of the Hub API that @huggingface/hub and
 * aicert call, with the shapes of the client's own types (ApiModelInfo / ApiDatasetInfo `sha`, ApiIndexTreeEntry,
 * `Link: <…>; rel="next"` pagination, `/resolve/<rev>/<path>` with X-Repo-Commit, a 302 to a CDN path for LFS
 * files, HTTP ranges), for models and datasets. Lies are switched on per server. Digests here are the server's
 * own claims (node:crypto); tests compute their expected values independently.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  path: string;
  bytes: Uint8Array;
  /** Stored in LFS (listed with an `lfs` oid; served by a redirect to the CDN path). */
  lfs?: boolean;
}

export interface FakeRepo {
  kind: 'model' | 'dataset';
  /** ORG/NAME */
  repo: string;
  commit: string;
  files: FakeFile[];
}

export interface FakeHubLies {
  /** The revision endpoint answers this `sha` instead of the commit asked for. */
  revisionSha?: string;
  /** Tree responses carry `X-Repo-Commit` of another commit. */
  treeCommitHeader?: string;
  /** Resolve responses carry `X-Repo-Commit` of another commit. */
  resolveCommitHeader?: string;
  /** Resolve responses carry no `X-Repo-Commit`. */
  omitResolveCommit?: boolean;
  /** Changes the listing entries before they are sent (sizes, oids, paths, extra entries). */
  tree?: (entries: Record<string, unknown>[]) => unknown[];
  /** Replaces the whole tree body (garbage, duplicate keys, oversized). */
  treeBody?: () => string | Buffer;
  /** The `Link` header of the first tree page (e.g. pointing elsewhere). */
  treeLink?: (base: string) => string;
  /** Changes the bytes served for a path (bytes whose digest differs from the listing). */
  serve?: (path: string, bytes: Uint8Array) => Uint8Array;
  /** Sends the full Content-Length for this path, then half the bytes, then drops the connection. */
  truncate?: string;
  /** LFS downloads redirect to this base URL (another host) instead of the CDN path of this server. */
  redirectLfsTo?: string;
  /** Every answer is this HTTP status (e.g. 500). */
  status?: number;
}

export interface FakeHubOptions {
  repos: FakeRepo[];
  lies?: FakeHubLies;
  /** Tree entries per page (pagination with Link next). Default 2. */
  pageSize?: number;
  /** When set, API and resolve requests need `Authorization: Bearer <token>` (a gated repository), else 401. */
  token?: string;
  /** Answers with CORS headers (as huggingface.co does), for a page on another origin; OPTIONS preflights allowed. */
  cors?: boolean;
}

export interface FakeHub {
  url: string;
  /** Every request: method, URL, and whether it carried an Authorization header. */
  requests: { method: string; url: string; auth: string | undefined; range: string | undefined }[];
  close(): Promise<void>;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const blobId = (b: Uint8Array): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** The LFS pointer file git stores for `bytes`. */
export function lfsPointer(bytes: Uint8Array): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.length}\n`);
}

/** ApiIndexTreeEntry for every file and directory of a repo, in the Hub's order (directories before their files). */
function treeEntries(r: FakeRepo): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const dirs = new Set<string>();
  for (const f of [...r.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const segs = f.path.split('/');
    for (let k = 1; k < segs.length; k++) {
      const d = segs.slice(0, k).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        out.push({ type: 'directory', oid: createHash('sha1').update(d).digest('hex'), size: 0, path: d });
      }
    }
    if (f.lfs) {
      const ptr = lfsPointer(f.bytes);
      out.push({ type: 'file', oid: blobId(ptr), size: f.bytes.length, lfs: { oid: sha256(f.bytes), size: f.bytes.length, pointerSize: ptr.length }, path: f.path });
    } else out.push({ type: 'file', oid: blobId(f.bytes), size: f.bytes.length, path: f.path });
  }
  return out;
}

export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const lies = opts.lies ?? {};
  const pageSize = opts.pageSize ?? 2;
  const requests: FakeHub['requests'] = [];
  let base = '';
  const find = (kind: string, repo: string, rev: string) => opts.repos.find((r) => r.kind === kind && r.repo === repo && r.commit === rev);

  const json = (res: ServerResponse, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(text);
  };
  const notFound = (res: ServerResponse, code = 'RepoNotFound') => {
    res.writeHead(404, { 'content-type': 'application/json', 'x-error-code': code });
    res.end(JSON.stringify({ error: code }));
  };

  /** Sends bytes honouring a Range header (206), or whole (200). */
  const sendBytes = (req: IncomingMessage, res: ServerResponse, path: string, bytes: Uint8Array, headers: Record<string, string>) => {
    const served = lies.serve ? lies.serve(path, bytes) : bytes;
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (m) {
      const a = Number(m[1]);
      const b = Math.min(Number(m[2]), served.length - 1);
      res.writeHead(206, { ...headers, 'content-range': `bytes ${a}-${b}/${served.length}`, 'content-length': String(b - a + 1) });
      res.end(Buffer.from(served.subarray(a, b + 1)));
      return;
    }
    if (lies.truncate === path) {
      res.writeHead(200, { ...headers, 'content-length': String(served.length) });
      res.write(Buffer.from(served.subarray(0, served.length >> 1)), () => res.destroy());
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(served.length), etag: `"${blobId(served)}"` });
    res.end(Buffer.from(served));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const u = new URL(req.url ?? '/', base);
    requests.push({ method: req.method ?? 'GET', url: u.pathname + u.search, auth: req.headers.authorization, range: req.headers.range });
    if (opts.cors) {
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('access-control-expose-headers', 'x-repo-commit, link, x-error-code, content-range, content-length, location');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-headers': 'authorization, range, accept', 'access-control-allow-methods': 'GET, HEAD' });
        res.end();
        return;
      }
    }
    if (lies.status) {
      res.writeHead(lies.status);
      res.end('{}');
      return;
    }
    // the CDN: content by sha256, no token needed
    const cdn = /^\/lfs-cdn\/([0-9a-f]{64})$/.exec(u.pathname);
    if (cdn) {
      for (const r of opts.repos) for (const f of r.files) if (f.lfs && sha256(f.bytes) === cdn[1]) return sendBytes(req, res, f.path, f.bytes, {});
      return notFound(res, 'EntryNotFound');
    }
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401, { 'content-type': 'application/json', 'x-error-code': 'GatedRepo' });
      res.end(JSON.stringify({ error: 'Access to this repository is restricted.' }));
      return;
    }
    const api = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(u.pathname);
    if (api) {
      const kind = api[1] === 'models' ? 'model' : 'dataset';
      const r = find(kind, api[2]!, decodeURIComponent(api[4]!));
      if (!r) return notFound(res, api[3] === 'tree' ? 'RevisionNotFound' : 'RepoNotFound');
      if (api[3] === 'revision') {
        const info = { _id: `id-${r.repo}`, id: r.repo, sha: lies.revisionSha ?? r.commit, private: false, gated: false, downloads: 0, likes: 0, lastModified: '2026-11-30T00:00:00.000Z' };
        return json(res, kind === 'model' ? { ...info, pipeline_tag: 'text-generation' } : info);
      }
      const headers: Record<string, string> = {};
      if (lies.treeCommitHeader) headers['x-repo-commit'] = lies.treeCommitHeader;
      if (lies.treeBody) return json(res, lies.treeBody(), headers);
      const all = lies.tree ? lies.tree(treeEntries(r)) : treeEntries(r);
      const cursor = Number(u.searchParams.get('cursor') ?? '0');
      const page = all.slice(cursor, cursor + pageSize);
      const next = new URL(u.href);
      next.searchParams.set('cursor', String(cursor + pageSize));
      if (cursor + pageSize < all.length) headers.link = `<${next.href}>; rel="next"`;
      if (cursor === 0 && lies.treeLink) headers.link = lies.treeLink(base);
      return json(res, page, headers);
    }
    const resolve = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname);
    if (resolve) {
      const r = find(resolve[1] ? 'dataset' : 'model', resolve[2]!, decodeURIComponent(resolve[3]!));
      const path = resolve[4]!.split('/').map(decodeURIComponent).join('/');
      const f = r?.files.find((x) => x.path === path);
      if (!r || !f) return notFound(res, 'EntryNotFound');
      const headers: Record<string, string> = {};
      if (!lies.omitResolveCommit) headers['x-repo-commit'] = lies.resolveCommitHeader ?? r.commit;
      if (f.lfs) {
        const to = `${lies.redirectLfsTo ?? base}/lfs-cdn/${sha256(f.bytes)}`;
        res.writeHead(302, { ...headers, location: to, 'x-linked-size': String(f.bytes.length), 'x-linked-etag': `"${sha256(f.bytes)}"` });
        res.end();
        return;
      }
      return sendBytes(req, res, path, f.bytes, headers);
    }
    notFound(res);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A minimal valid safetensors file: one F32 tensor of `n` elements. */
export function safetensorsFile(n = 4, seed = 1): Uint8Array {
  const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.from(Float32Array.from({ length: n }, (_, k) => k * seed).buffer);
  return new Uint8Array(Buffer.concat([len, header, data]));
}

/** A model repo (LFS weights, small configs in a sub-folder, README and .gitattributes) and a dataset repo. */
export function sampleRepos(): { model: FakeRepo; dataset: FakeRepo } {
  const t = (s: string) => new TextEncoder().encode(s);
  const model: FakeRepo = {
    kind: 'model',
    repo: 'acme/tiny-ft',
    commit: '1f0e2d3c4b5a69788796a5b4c3d2e1f00112233a',
    files: [
      { path: '.gitattributes', bytes: t('*.safetensors filter=lfs diff=lfs merge=lfs -text\n') },
      { path: 'README.md', bytes: t('# tiny-ft\n') },
      { path: 'config.json', bytes: t('{"model_type":"llama","hidden_size":8}\n') },
      { path: 'model.safetensors', bytes: safetensorsFile(64), lfs: true },
      { path: 'tokenizer/tokenizer.json', bytes: t('{"version":"1.0","model":{"type":"BPE"}}\n') },
    ],
  };
  const dataset: FakeRepo = {
    kind: 'dataset',
    repo: 'acme/instructions',
    commit: '00aa11bb22cc33dd44ee55ff66778899aabbccdd',
    files: [
      { path: 'README.md', bytes: t('# data\n') },
      { path: 'data/train.jsonl', bytes: t('{"instruction":"hi","output":"hello"}\n') },
      { path: 'data/big.parquet', bytes: Uint8Array.from({ length: 70_000 }, (_, k) => (k * 7) % 253), lfs: true },
    ],
  };
  return { model, dataset };
}
