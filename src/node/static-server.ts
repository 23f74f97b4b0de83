/**
 * A small static file server for the verifier page (`aicert serve`, spec/cli.md §aicert serve): GET and HEAD of the
 * files below one folder, loopback by default. A path is decoded once and refused (404) when it has a `..`, `.`
 * or empty segment, a backslash, a NUL or an encoded slash, or when its real path (symlinks followed) leaves the
 * folder. Known extensions get their content type; every answer carries the page's CSP and nosniff.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, sep } from 'node:path';
import { WEB_CSP } from '../util/web-csp.js';

/** Content types by extension; anything else is application/octet-stream. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers on every answer. */
export const STATIC_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': `${WEB_CSP}; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/** The relative file a request path names, or undefined when the path is refused. */
export function safeRelativePath(rawUrl: string): string | undefined {
  const q = rawUrl.search(/[?#]/);
  const raw = q === -1 ? rawUrl : rawUrl.slice(0, q);
  if (!raw.startsWith('/') || /%2f|%5c|%00/i.test(raw)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (path === '/') return 'index.html';
  const segs = path.slice(1).split('/');
  if (segs.some((s) => s === '' || s === '.' || s === '..' || /[\\\0]/.test(s))) return undefined;
  return segs.join('/');
}

/** Resolves a request to a regular file inside `root` (a real path), or undefined. */
async function resolveFile(root: string, rawUrl: string): Promise<string | undefined> {
  const rel = safeRelativePath(rawUrl);
  if (rel === undefined) return undefined;
  try {
    const real = await realpath(join(root, rel));
    if (!real.startsWith(root + sep)) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Answers one request. */
async function answer(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [k, v] of Object.entries(STATIC_HEADERS)) res.setHeader(k, v);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  const file = await resolveFile(root, req.url ?? '/');
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  const size = (await stat(file)).size;
  res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': String(size) });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/** Starts serving `root` on host:port (port 0: any free port); resolves with the server and its URL. */
export async function serveStatic(root: string, opts: { host?: string; port?: number } = {}): Promise<{ server: Server; url: string }> {
  const base = await realpath(root);
  const server = createServer((req, res) => {
    answer(base, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const a = server.address() as AddressInfo;
  const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return { server, url: `http://${h}:${a.port}/` };
}
