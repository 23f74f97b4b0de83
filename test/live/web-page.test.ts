/**
 * The verifier page (dist/web, spec/cli.md §aicert serve) in headless Chromium, served by `aicert serve`: the demo
 * AIBOM with its weights folder is VALID with every output ✓ and the CLI's checks; a tampered document and a tampered
 * weight are NOT VALID with the CLI's own verdict line; hostile strings are shown escaped, cut and never as markup; a
 * Hub reference is compared with a loopback Hub; the server refuses traversal and sends the CSP. Expected verdicts
 * come from the CLI run on the same inputs (an independent path: Node hashing, terminal report). Screenshots of the
 * valid, tampered and hostile reports: test/screenshots (refreshed with AICERT_SCREENSHOTS=1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeHub } from '../helpers/fake-hub.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = join(repo, 'dist', 'bin', 'aicert.js');
const demo = (f: string) => join(repo, 'testvectors', 'demo', f);
const chromium = '/usr/bin/chromium';
const ready = existsSync(join(repo, 'dist', 'web', 'index.html')) && existsSync(cli) && existsSync(chromium);
if (!ready) console.warn('NOTICE: dist/web or /usr/bin/chromium missing; verifier page test skipped (npm run build; apt-get install chromium).');

/** Runs the CLI (asynchronously: a loopback Hub in this process must keep answering); stdout. */
function runCli(args: string[]): Promise<string> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    p.on('close', () => ok(out));
  });
}

/** The CLI's verdict for the same inputs: the wrapped last logical line, unwrapped. */
async function cliVerdict(args: string[]): Promise<string> {
  const out = await runCli(['verify', ...args]);
  const lines = out.trimEnd().split('\n');
  let at = lines.length - 1;
  while (at >= 0 && !/^(NOT )?VALID — /.test(lines[at]!)) at--;
  expect(at, out).toBeGreaterThanOrEqual(0);
  return [lines[at]!, ...lines.slice(at + 1).map((l) => l.replace(/^ {2}/, ''))].join(' ');
}

/** A check detail without the verification time it names. */
const untimed = (s: string): string => s.replace(/valid at \d{4}-\d\d-\d\dT[\d:.]+Z/g, 'valid at <now>');

/** Every file below a folder, relative POSIX paths. */
const files = (dir: string, base = dir): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n), base) : [relative(base, join(dir, n))]));

/** One raw HTTP request (no client-side path normalisation). */
function raw(url: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe.skipIf(!ready)('verifier page (aicert serve + headless Chromium)', () => {
  let serve: ChildProcess | undefined;
  let url = '';
  let ctx: BrowserContext;
  let tmp = '';
  const requests: string[] = [];
  /** Console errors of every page (a CSP violation shows up here). */
  const consoleErrors: string[] = [];
  // AICERT_SCREENSHOTS=1 refreshes the committed screenshots in test/screenshots; otherwise they go to a temp folder
  const shotDir = (): string => (process.env.AICERT_SCREENSHOTS === '1' ? join(repo, 'test', 'screenshots') : tmp);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'aicert-web-'));
    serve = spawn(process.execPath, [cli, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((ok, fail) => {
      let out = '';
      serve!.stdout!.on('data', (c) => {
        out += c;
        const m = /^aicert serve: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
        if (m) ok(m[1]!);
      });
      serve!.once('exit', (c) => fail(new Error(`aicert serve exited ${c}: ${out}`)));
    });
    const { chromium: pw } = await import('playwright-core');
    ctx = await pw.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: chromium,
      headless: true,
      viewport: { width: 900, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    ctx.on('request', (r) => void requests.push(`${r.method()} ${r.url()}`));
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    if (serve?.pid) process.kill(serve.pid, 'SIGTERM');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh page, loaded; page errors fail the test. */
  async function open(): Promise<Page> {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => {
      throw e;
    });
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
    await page.goto(url);
    await page.waitForSelector('body[data-state=ready]');
    return page;
  }

  /** Picks the inputs, clicks Verify and waits for the verdict. */
  async function verify(page: Page, pick: Record<string, string | string[] | { name: string; mimeType: string; buffer: Buffer }[]>, ticks: string[] = []): Promise<string> {
    for (const [sel, v] of Object.entries(pick)) {
      if (typeof v === 'string' && !v.startsWith('/')) await page.fill(sel, v);
      else await page.setInputFiles(sel, v as string);
    }
    for (const t of ticks) await page.check(t);
    await page.click('#verify');
    await page.waitForSelector('body[data-state=done]');
    return (await page.textContent('#verdict .txt'))!;
  }

  const base = { '#doc': demo('aibom.json'), '#trust': demo('trust-root.pem'), '#policy': demo('policy.json') };

  test('aicert serve: loopback, content types, CSP and nosniff headers, traversal refused', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const index = await raw(url, '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    // the meta tag of the page carries the same policy (a hub hosting the files as is has no header)
    expect(index.body).toContain(`<meta http-equiv="Content-Security-Policy" content="${csp.replace(/; frame-ancestors 'none'$/, '')}">`);
    expect((await raw(url, '/aicert-web.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await raw(url, '/aicert-web.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await raw(url, '/index.html', 'HEAD')).status).toBe(200);
    expect((await raw(url, '/index.html', 'POST')).status).toBe(405);
    for (const p of ['/../package.json', '/..%2fpackage.json', '/%2e%2e/package.json', '/%2e%2e%2fpackage.json', '/..\\package.json', '/%2e%2e%5cpackage.json', '/./index.html', '//etc/passwd', '/%00', '/../../../../etc/passwd', '/web/../../package.json', '/%252e%252e/package.json']) {
      const r = await raw(url, p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain('"name"');
    }
  });

  test('the valid demo AIBOM with its weights folder: VALID, every output ✓, the CLI checks and verdict', async () => {
    const page = await open();
    const verdict = await verify(page, { ...base, '#folder': demo('weights') });
    expect(verdict).toBe('VALID — 3 of 3 weight files match; freshness not checked (no nonce given); no boot event log to replay');
    // the CLI's verdict on the same inputs says the same, naming its flag where the page names its field
    expect(await cliVerdict([demo('aibom.json'), '--trust-root', demo('trust-root.pem'), '--policy', demo('policy.json'), '--model', demo('weights')])).toBe(
      verdict.replace('(no nonce given)', '(no --nonce)'),
    );
    const rows = await page.$$eval('#card tr[data-output]', (trs) => trs.map((t) => `${t.className} ${t.querySelector('td')!.textContent}`));
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r).toMatch(/^pass ✓.* file matches$/);
    // every check with the CLI's reason (its --json checks), the artifacts line as the CLI's human report words it
    const json = JSON.parse(await runCli(['verify', demo('aibom.json'), '--trust-root', demo('trust-root.pem'), '--policy', demo('policy.json'), '--model', demo('weights'), '--json']));
    const shown = await page.$$eval('#checks li', (lis) => lis.map((l) => ({ id: l.querySelector('.id')!.textContent, cls: l.className, detail: l.querySelector('.detail .txt')!.textContent })));
    expect(shown.map((c) => c.id)).toEqual(json.checks.map((c: { id: string }) => c.id));
    for (const [i, c] of json.checks.entries()) {
      expect(shown[i]!.cls).toBe(c.ok === null ? 'skip' : c.ok ? 'pass' : 'fail');
      // the page names its own inputs where the CLI names a flag
      expect(untimed(shown[i]!.detail!)).toBe(c.id === 'artifacts' ? '3 of 3 weight files match' : untimed(c.detail).replace('--nonce', 'nonce'));
    }
    expect(await page.textContent('#card-title')).toBe('ID card');
    expect(await page.textContent('#card')).toContain('aicert-demo/tiny-base');
    expect(await page.textContent('#progress-text')).toMatch(/^100% · \d+(\.\d)? MB\/s$/);
    mkdirSync(shotDir(), { recursive: true });
    await page.locator('#result').screenshot({ path: join(shotDir(), 'web-valid.png') });
    // nothing left the page: only GETs of its own three files; the page runs under its CSP without a violation
    expect(requests.filter((r) => !r.startsWith(`GET ${url}`))).toEqual([]);
    expect(consoleErrors).toEqual([]);
    // a plain document has nothing marked as escaped
    expect(await page.locator('.badge').count()).toBe(0);
    await page.close();
  }, 60_000);

  test.each(['aibom.cbor', 'attestation.json'])('%s (CBOR, and the original format) with its weights folder: VALID as the CLI says', async (doc) => {
    const page = await open();
    const verdict = await verify(page, { ...base, '#doc': demo(doc), '#folder': demo('weights') });
    expect(verdict).toBe('VALID — 3 of 3 weight files match; freshness not checked (no nonce given); no boot event log to replay');
    const cliSays = await cliVerdict([demo(doc), '--trust-root', demo('trust-root.pem'), '--policy', demo('policy.json'), '--model', demo('weights')]);
    expect(cliSays).toBe(verdict.replace('(no nonce given)', '(no --nonce)'));
    expect(await page.$$eval('#card tr[data-output].pass', (r) => r.length)).toBe(3);
    await page.close();
  }, 60_000);

  test('a tampered document: NOT VALID with the CLI verdict', async () => {
    const doc = JSON.parse(readFileSync(demo('aibom.json'), 'utf8'));
    const st = Buffer.from(doc.statement, 'base64').toString('utf8');
    expect(st).toContain('5bbdfc6cd7c724a0');
    doc.statement = Buffer.from(st.replace('5bbdfc6cd7c724a0', '6bbdfc6cd7c724a0')).toString('base64');
    const bad = join(tmp, 'aibom-tampered.json');
    writeFileSync(bad, JSON.stringify(doc, null, 2));
    const page = await open();
    const verdict = await verify(page, { ...base, '#doc': bad, '#folder': demo('weights') });
    expect(verdict).toMatch(/^NOT VALID — [A-Z_]+: /);
    expect(verdict).toBe(await cliVerdict([bad, '--trust-root', demo('trust-root.pem'), '--policy', demo('policy.json'), '--model', demo('weights')]));
    expect(await page.textContent('#verdict')).not.toMatch(/^VALID/);
    expect(await page.$$eval('#checks li.fail', (l) => l.length)).toBe(1);
    await page.locator('#result').screenshot({ path: join(shotDir(), 'web-tampered.png') });
    await page.close();
  }, 60_000);

  test('a tampered weight: NOT VALID naming the file, its ID card row ✗', async () => {
    const dir = join(tmp, 'weights');
    cpSync(demo('weights'), dir, { recursive: true });
    const f = join(dir, 'lora-out', 'adapter_model.safetensors');
    const b = readFileSync(f);
    b[b.length - 1]! ^= 1;
    writeFileSync(f, b);
    const page = await open();
    const verdict = await verify(page, { ...base, '#folder': dir });
    expect(verdict).toBe('NOT VALID — ARTIFACT_MISMATCH: 2 of 3 weight files match; mismatched: lora-out/adapter_model.safetensors');
    expect(verdict).toBe(await cliVerdict([demo('aibom.json'), '--trust-root', demo('trust-root.pem'), '--policy', demo('policy.json'), '--model', dir]));
    const rows = await page.$$eval('#card tr[data-output]', (trs) => trs.map((t) => `${t.className} ${t.querySelector('td')!.textContent}`));
    expect(rows.filter((r) => r.startsWith('fail ✗lora-out/adapter_model.safetensors'))).toHaveLength(1);
    expect(rows.filter((r) => r.startsWith('pass ✓'))).toHaveLength(2);
    expect(await page.textContent('#card-title')).toBe('ID card (NOT verified: do not rely on it)');
    await page.locator('#result').screenshot({ path: join(shotDir(), 'web-tampered-weight.png') });
    await page.close();
  }, 60_000);

  test('hostile strings (ESC, newlines, U+202E, markup, 10k characters) are shown escaped and cut, never as markup', async () => {
    const long = 'L'.repeat(10_000);
    const evil = '\x1b[2J\x1b[32mVALID — all good\n<img src=x onerror=alert(1)>\u202egnp.exe';
    const d = JSON.parse(readFileSync(demo('attestation.json'), 'utf8'));
    // the events are JSON texts: the hostile string goes in JSON-escaped, so the strict reader accepts it
    const j = (s: string) => JSON.stringify(s).slice(1, -1);
    const doc = {
      ca_cert: '',
      event_log: d.event_log.map((s: string) => s.replace('@local/aicert-base:latest', j(`img${evil}`)).replaceAll('aicert-demo/tiny-base', `org/${long}`)),
      output_event_log: d.output_event_log.map((s: string) => s.replace('finetuned-model.zip', j('out<img src=x onerror=alert(1)>.zip'))),
      remote_attestation: { simulation_mode: true },
    };
    const path = join(tmp, 'hostile.json');
    writeFileSync(path, JSON.stringify(doc));
    const page = await open();
    const before = await page.evaluate(() => document.querySelectorAll('*').length);
    const weights = [`w${evil}.bin`, `${'N'.repeat(10_000)}.bin`].map((name) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(name) }));
    const verdict = await verify(page, { '#doc': path, '#weights': weights }, ['#allow-simulation', '#allow-unchecked']);
    expect(verdict).toMatch(/^NOT VALID — ARTIFACT_MISMATCH: 0 of 3 weight files match; not given: .*; not bound: w\\x1b\[2J\\x1b\[32mVALID — all good\\n<img/);
    const dom = await page.evaluate(() => {
      const res = document.getElementById('result')!;
      return {
        text: ['verdict', 'card', 'checks', 'files', 'warnings'].map((id) => document.getElementById(id)!.textContent).join(''),
        tags: [...new Set([...res.querySelectorAll('*')].map((e) => e.tagName))],
        imgs: document.querySelectorAll('img, script:not([src]), iframe, object, embed').length,
        handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
        cut: [...res.querySelectorAll('.val .txt')].map((t) => [...(t.textContent ?? '')].length),
      };
    });
    // no raw control, bidi or separator character reaches the DOM text; escapes are visible instead
    expect(dom.text).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    expect(dom.text).toContain('img\\x1b[2J\\x1b[32mVALID — all good\\n<img src=x onerror=alert(1)>\\u{202e}gnp.exe');
    expect(dom.text).toContain('out<img src=x onerror=alert(1)>.zip');
    expect(dom.tags.every((t) => ['P', 'H2', 'TABLE', 'TBODY', 'TR', 'TH', 'TD', 'UL', 'LI', 'SPAN', 'BUTTON'].includes(t)), dom.tags.join()).toBe(true);
    expect(dom.imgs).toBe(0);
    expect(dom.handlers).toBe(0);
    expect(await page.$$eval('.val.escaped .badge', (b) => b.length)).toBeGreaterThan(0);
    // rows already escaped by the shared ID card code are marked too (the hostile image), plain rows are not
    expect(await page.locator('#card tr', { hasText: 'gnp.exe' }).locator('.badge').count()).toBe(1);
    expect(await page.locator('#card tr', { hasText: 'Dataset' }).locator('.badge').count()).toBe(0);
    expect(await page.locator('#verdict .badge').count()).toBe(1);
    // long values are cut (the verdict line at 2000) with the whole value one click away
    expect(Math.max(...dom.cut)).toBeLessThanOrEqual(2001);
    await page.locator('#result').screenshot({ path: join(shotDir(), 'web-hostile.png') });
    const card = page.locator('#card tr', { hasText: 'Base model' });
    expect([...((await card.locator('.txt').textContent()) ?? '')].length).toBe(161);
    await card.locator('button.more').click();
    expect(await card.locator('.txt').textContent()).toContain(`org/${long}`);
    expect(await page.evaluate(() => document.querySelectorAll('*').length)).toBeGreaterThan(before);
    expect(await page.$$eval('#verdict', (v) => v.length)).toBe(1);
    await page.close();
  }, 60_000);

  test('a Hub reference: compared with a loopback Hub commit (VALID), and a Hub commit with a changed weight (NOT VALID)', async () => {
    const w = demo('weights');
    const names = files(w);
    const good = 'a'.repeat(40);
    const bad = 'b'.repeat(40);
    const mk = (commit: string, change: string | undefined) => ({
      kind: 'model' as const,
      repo: 'aicert-demo/tiny-finetuned',
      commit,
      files: [
        ...names.map((p) => {
          const bytes = Uint8Array.from(readFileSync(join(w, p)));
          if (p === change) bytes[0]! ^= 1;
          return { path: p, bytes, lfs: !p.endsWith('.json') };
        }),
        { path: 'README.md', bytes: Buffer.from('# model card\n') },
      ],
    });
    const hub = await startFakeHub({ cors: true, repos: [mk(good, undefined), mk(bad, 'finetuned-model.zip')] });
    try {
      const page = await open();
      const verdict = await verify(page, { ...base, '#hub-ref': `aicert-demo/tiny-finetuned@${good}`, '#hub-endpoint': hub.url });
      expect(verdict).toBe('VALID — freshness not checked (no nonce given); no boot event log to replay');
      const rows = await page.$$eval('#card tr[data-output]', (trs) => trs.map((t) => `${t.className} ${t.querySelector('td')!.textContent}`));
      expect(rows).toHaveLength(3);
      for (const r of rows) expect(r).toMatch(/^pass ✓.* matches the Hub commit$/);
      expect(await page.textContent('#files')).toContain('README.md conventional');
      await page.close();
      const page2 = await open();
      const v2 = await verify(page2, { ...base, '#hub-ref': `aicert-demo/tiny-finetuned@${bad}`, '#hub-endpoint': hub.url });
      const pageRequests = hub.requests.slice();
      expect(v2).toBe(await cliVerdict([demo('aibom.json'), '--trust-root', demo('trust-root.pem'), '--policy', demo('policy.json'), '--hf', `aicert-demo/tiny-finetuned@${bad}`, '--hf-endpoint', hub.url]));
      expect(v2).toContain('mismatched: finetuned-model.zip');
      await page2.close();
      // the page only asked the Hub's API for the listing (and read the small non-LFS file); no weight was downloaded
      expect(pageRequests.filter((r) => r.url.includes('/resolve/') && !r.url.endsWith('.json'))).toEqual([]);
      expect(pageRequests.length).toBeGreaterThan(0);
    } finally {
      await hub.close();
    }
  }, 60_000);

  test('files dropped on the page in any order: the AIBOM is told from the weights; a trust root and a policy in the drop are set aside, never adopted', async () => {
    const w = demo('weights');
    const paths = [...files(w).map((p) => join(w, p)), demo('policy.json'), demo('aibom.json'), demo('trust-root.pem')];
    const payload = paths.map((p) => ({ name: basename(p), b64: readFileSync(p).toString('base64') }));
    const page = await open();
    // a drop event carrying the files, as the browser dispatches it
    await page.evaluate(`((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })(${JSON.stringify(payload)})`);
    await expect.poll(() => page.textContent('#chosen')).toBe('document: aibom.json · 3 weight files · set aside (trust roots and policies come only from their own pickers): policy.json, trust-root.pem');
    // a trust root shipped beside the model does not make the document trusted: the CLI without --trust-root agrees
    const untrusted = await verify(page, {});
    expect(untrusted).toMatch(/^NOT VALID/);
    expect(untrusted).toBe(await cliVerdict([demo('aibom.json'), '--model', w]));
    // the same files with the trust root and policy from their own pickers: VALID
    expect(await verify(page, { '#trust': demo('trust-root.pem'), '#policy': demo('policy.json') })).toBe('VALID — 3 of 3 weight files match; freshness not checked (no nonce given); no boot event log to replay');
    await page.close();
  }, 60_000);

  test('hashing speed in the page worker: @noble/hashes streaming vs one WebCrypto digest (64 MiB)', async () => {
    const page = await open();
    const b = (await page.evaluate('window.aicertBench(64 * 1024 * 1024)')) as { bytes: number; nobleMs: number; webcryptoMs: number; noble: string; webcrypto: string };
    // the streaming hasher (4 MiB chunks, 16 of them) agrees with WebCrypto's one-shot digest of the same bytes
    expect(b.noble).toMatch(/^[0-9a-f]{64}$/);
    expect(b.noble).toBe(b.webcrypto);
    const mbs = (ms: number) => ((b.bytes / 1e6) * 1000) / ms;
    console.log(`page worker SHA-256 of 64 MiB: @noble/hashes 4 MiB chunks ${mbs(b.nobleMs).toFixed(0)} MB/s, WebCrypto one digest ${mbs(b.webcryptoMs).toFixed(0)} MB/s`);
    expect(b.nobleMs).toBeGreaterThan(0);
    expect(b.webcryptoMs).toBeGreaterThan(0);
    await page.close();
  }, 120_000);
});

