/**
 * The static server behind `aicert serve` (spec/cli.md §aicert serve), without a browser: paths that climb out of the
 * folder (`..`, encoded dots and slashes, backslashes, NUL, a symlink pointing outside) are refused, content types
 * come from the extension, and every answer carries the page's CSP and nosniff.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { safeRelativePath, serveStatic } from '../src/node/static-server.js';
import { WEB_CSP } from '../src/util/web-csp.js';

/** One request with the path sent byte for byte (no client normalisation). */
function get(url: string, path: string, method = 'GET'): Promise<{ status: number; type?: string; csp?: string; nosniff?: string; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        ok({ status: res.statusCode!, type: res.headers['content-type'], csp: res.headers['content-security-policy'] as string, nosniff: res.headers['x-content-type-options'] as string, body }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

describe('aicert serve: static server', () => {
  let dir = '';
  let server: Server;
  let url = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aicert-serve-'));
    const root = join(dir, 'web');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(root, 'a.js'), 'export {};');
    writeFileSync(join(root, 'a.css'), 'body{}');
    writeFileSync(join(root, 'blob.bin'), 'x');
    writeFileSync(join(dir, 'secret.txt'), 'SECRET');
    symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
    symlinkSync(dir, join(root, 'sub', 'up'));
    ({ server, url } = await serveStatic(root, { port: 0 }));
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('listens on loopback by default', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test('content types by extension, / is index.html, CSP and nosniff on every answer', async () => {
    const cases: [string, number, string][] = [
      ['/', 200, 'text/html; charset=utf-8'],
      ['/index.html', 200, 'text/html; charset=utf-8'],
      ['/a.js', 200, 'text/javascript; charset=utf-8'],
      ['/a.css', 200, 'text/css; charset=utf-8'],
      ['/blob.bin', 200, 'application/octet-stream'],
      ['/missing.js', 404, 'text/plain; charset=utf-8'],
    ];
    for (const [p, status, type] of cases) {
      const r = await get(url, p);
      expect([p, r.status, r.type]).toEqual([p, status, type]);
      expect(r.csp).toBe(`${WEB_CSP}; frame-ancestors 'none'`);
      expect(r.nosniff).toBe('nosniff');
    }
    expect((await get(url, '/a.js', 'HEAD')).status).toBe(200);
    expect((await get(url, '/a.js', 'PUT')).status).toBe(405);
  });

  test('traversal is refused: dot segments, encoded dots, slashes and backslashes, NUL, symlinks out of the folder', async () => {
    const bad = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/..\\secret.txt',
      '/..%5csecret.txt',
      '/sub/../../secret.txt',
      '/./index.html',
      '//secret.txt',
      '/index.html%00.js',
      '/%252e%252e/secret.txt',
      '/link.txt',
      '/sub/up/secret.txt',
      '/sub',
      'secret.txt',
      '/%',
    ];
    for (const p of bad) {
      const r = await get(url, p);
      // 400: Node's own parser refuses a request target without a leading slash
      expect([404, 400], p).toContain(r.status);
      expect(r.body).not.toContain('SECRET');
    }
  });

  test('safeRelativePath: the one place a request path becomes a file name', () => {
    expect(safeRelativePath('/')).toBe('index.html');
    expect(safeRelativePath('/a/b.js?x=1#y')).toBe('a/b.js');
    expect(safeRelativePath('/a%20b.js')).toBe('a b.js');
    for (const p of ['/..', '/a/..', '/a//b', '/a/./b', '/%2e%2e', '/a%2fb', '/a%5cb', '/a\\b', '/%00', '/%zz', 'a']) expect(safeRelativePath(p), p).toBeUndefined();
  });
});
