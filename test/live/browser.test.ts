// The built browser bundle (dist/browser/aicert.js) verifies the demo AIBOM, weights included, in headless Chromium.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const bundle = join(repo, 'dist', 'browser', 'aicert.js');
const chromium = '/usr/bin/chromium';
const ready = existsSync(bundle) && existsSync(chromium);
if (!ready) console.warn(`NOTICE: ${existsSync(bundle) ? chromium : bundle} missing; browser test skipped (npm run build; apt-get install chromium).`);

/** Every file below a folder, as POSIX paths relative to it. */
function files(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n), base) : [relative(base, join(dir, n))]));
}

describe.skipIf(!ready)('headless Chromium', () => {
  let server: Server;
  let url = '';
  let profile = '';
  beforeAll(async () => {
    // Loopback server for the bundle, a blank page and the demo files.
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      // The entry module and the chunks it loads on demand, all from dist/browser.
      const js = /^\/[\w.-]+\.js$/.test(path) ? join(dirname(bundle), path.slice(1)) : undefined;
      const file = js ?? (path.startsWith('/demo/') ? join(repo, 'testvectors', path) : undefined);
      if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>aicert</title>');
      if (!file || !file.startsWith(join(repo, js ? 'dist' : 'testvectors')) || !existsSync(file)) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), 'aicert-chromium-'));
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test('verifyAibom from the ESM bundle: valid with weights, invalid with a tampered weight', async () => {
    const { chromium: pw } = await import('playwright-core');
    const browser = await pw.launchPersistentContext(profile, {
      executablePath: chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      const weights = files(join(repo, 'testvectors', 'demo', 'weights'));
      // Plain page script (a string, so the test runner does not rewrite its dynamic import).
      const script = `(async (weights) => {
        const lib = await import('/aicert.js');
        const get = async (p) => new Uint8Array(await (await fetch('/demo/' + p)).arrayBuffer());
        const artifacts = {};
        for (const w of weights) artifacts[w] = await get('weights/' + w);
        const opts = { trustAnchors: [new TextDecoder().decode(await get('trust-root.pem'))], policy: await get('policy.json') };
        const good = await lib.verifyAibom(await get('aibom.json'), { ...opts, artifacts });
        const bad = artifacts[weights[0]].slice();
        bad[0] ^= 1;
        const tampered = await lib.verifyAibom(await get('aibom.cbor'), { ...opts, artifacts: { ...artifacts, [weights[0]]: bad } });
        return { good: { valid: good.valid, ids: good.checks.map((c) => c.ok + ':' + c.id) }, tampered: { valid: tampered.valid, code: tampered.error && tampered.error.code }, ua: navigator.userAgent };
      })(${JSON.stringify(weights)})`;
      const result = (await page.evaluate(script)) as { good: { valid: boolean; ids: string[] }; tampered: { valid: boolean; code?: string }; ua: string };
      expect(result.ua).toContain('HeadlessChrome');
      expect(result.good.valid).toBe(true);
      expect(result.good.ids).toContain('true:artifacts');
      expect(result.good.ids).toContain('true:quote.signature');
      expect(result.tampered.valid).toBe(false);
      expect(result.tampered.code).toMatch(/ARTIFACT/);
    } finally {
      await browser.close();
    }
  });
});
